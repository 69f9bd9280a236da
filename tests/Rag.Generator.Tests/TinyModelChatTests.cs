using Microsoft.Extensions.AI;
using Rag.Generator.Chat;
using Rag.Generator.Generation;
using Rag.Generator.Model;
using Rag.Generator.Tokenization;

namespace Rag.Generator.Tests;

/// <summary>The chat client over the real tiny RWKV-7 fixture model (not a test double).</summary>
public class TinyModelChatTests
{
    private static readonly List<ChatMessage> Conversation = [new(ChatRole.User, "Tell me about lighthouses.")];

    /// <summary>The model with its scheduler, which is disposed first: no step may still run when the weights go.</summary>
    private sealed class TinyChat : IDisposable
    {
        public Rwkv7Model Model { get; } = Rwkv7Model.Load(TinyRwkv.ModelPath, new GeneratorOptions());

        public RwkvChatClient Client => field ??= new RwkvChatClient(Model, WorldTokenizer.Load(TinyRwkv.VocabPath));

        public void Dispose()
        {
            ((TextGenerator)Client.GetService(typeof(TextGenerator))!).Scheduler.Dispose();
            Model.Dispose();
        }
    }

    [Fact]
    public async Task Streaming_with_a_seed_equals_the_non_streaming_result()
    {
        using var tiny = new TinyChat();
        var client = tiny.Client;
        var options = new ChatOptions { Temperature = 1.0f, TopP = 0.9f, Seed = 42, MaxOutputTokens = 24 };

        var whole = await client.GetResponseAsync(Conversation, options);
        var pieces = new List<string>();
        await foreach (var update in client.GetStreamingResponseAsync(Conversation, options))
            pieces.Add(update.Text);

        Assert.Equal(whole.Text, string.Concat(pieces));
        Assert.True(whole.Usage!.OutputTokenCount > 0);
        Assert.True(pieces.Count > 1, "a streamed reply arrives in several pieces");
    }

    [Fact]
    public async Task Prefill_and_decode_are_traced_with_their_token_counts()
    {
        var stopped = new List<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == TextGenerator.ActivitySource.Name,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllData,
            ActivityStopped = activity => { lock (stopped) stopped.Add(activity); },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        using var tiny = new TinyChat();
        var client = tiny.Client;

        var response = await client.GetResponseAsync(Conversation, new ChatOptions { Temperature = 0, MaxOutputTokens = 5 });

        var prefill = Assert.Single(stopped, a => a.OperationName == "prefill");
        var decode = Assert.Single(stopped, a => a.OperationName == "decode");
        Assert.Equal(response.Usage!.InputTokenCount, Convert.ToInt64(prefill.GetTagItem("gen_ai.usage.input_tokens")));
        Assert.Equal(response.Usage.OutputTokenCount, Convert.ToInt64(decode.GetTagItem("gen_ai.usage.output_tokens")));
    }

    [Fact]
    public async Task Cancelling_mid_stream_ends_the_stream()
    {
        using var tiny = new TinyChat();
        var client = tiny.Client;
        using var cts = new CancellationTokenSource();
        var options = new ChatOptions { Temperature = 1.0f, Seed = 7, MaxOutputTokens = 400 };
        int received = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync(Conversation, options, cts.Token))
                if (++received == 3) cts.Cancel();
        });
        Assert.Equal(3, received);
    }
}
