using Microsoft.Extensions.AI;
using Rag.Generator.Chat;
using Rag.Generator.Generation;
using Rag.Generator.Tokenization;

namespace Rag.Generator.Tests;

public class RwkvChatClientTests
{
    private static readonly WorldTokenizer Tokenizer = WorldVocabulary.Tokenizer;
    private static readonly List<ChatMessage> Conversation = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "Say hello.")];
    private static readonly int PromptTokens = Tokenizer.CountTokens(ChatPromptFormatter.Format(Conversation));

    private static (RwkvChatClient Client, ScriptedTestModel Model) Scripted(string reply)
    {
        var model = new ScriptedTestModel(Tokenizer.EncodeToIds(reply), PromptTokens);
        return (new RwkvChatClient(model, Tokenizer), model);
    }

    [Fact]
    public async Task Reply_ends_at_the_turn_separator_with_usage_and_stop()
    {
        var (client, model) = Scripted(" Hello there.\n\nUser: and more");
        var response = await client.GetResponseAsync(Conversation, new ChatOptions { Temperature = 0 });

        Assert.Equal("Hello there.", response.Text);
        Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.NotNull(response.Usage);
        Assert.Equal(PromptTokens, response.Usage.InputTokenCount);
        Assert.Equal(Tokenizer.CountTokens(" Hello there.\n\n"), response.Usage.OutputTokenCount);
        Assert.Equal(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
        await SchedulerAssert.AllStatesFreed(((TextGenerator)client.GetService(typeof(TextGenerator))!).Scheduler, model);
    }

    [Fact]
    public async Task Max_output_tokens_ends_with_length()
    {
        var (client, _) = Scripted(" one two three four");
        var response = await client.GetResponseAsync(Conversation, new ChatOptions { Temperature = 0, MaxOutputTokens = 2 });

        Assert.Equal("one two", response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(2, response.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Requested_stop_sequence_is_honoured()
    {
        var (client, _) = Scripted(" alpha beta gamma");
        var response = await client.GetResponseAsync(Conversation, new ChatOptions { Temperature = 0, StopSequences = ["a g"] });

        Assert.Equal("alpha bet", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task Streaming_equals_non_streaming_with_a_fixed_seed()
    {
        var client = new RwkvChatClient(new BigramTestModel(), Tokenizer);
        var options = new ChatOptions { Temperature = 1, TopP = 0.9f, TopK = 50, Seed = 11, MaxOutputTokens = 24, PresencePenalty = 0.3f };

        var response = await client.GetResponseAsync(Conversation, options);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(Conversation, options)) updates.Add(update);

        Assert.True(updates.Count > 2, "the reply should stream in several pieces");
        Assert.False(string.IsNullOrEmpty(response.Text));
        Assert.Equal(response.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(response.FinishReason, updates[^1].FinishReason);
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal(response.Usage!.OutputTokenCount, usage.OutputTokenCount);
        Assert.Equal(response.Usage.InputTokenCount, usage.InputTokenCount);
    }

    [Fact]
    public async Task Cancellation_mid_stream_ends_it_and_disposes_the_state()
    {
        var (client, model) = Scripted(" on and on and on and on and on");
        using var cts = new CancellationTokenSource();
        var received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync(Conversation, new ChatOptions { Temperature = 0 }, cts.Token))
            {
                received++;
                cts.Cancel();
            }
        });
        Assert.Equal(1, received);
        await SchedulerAssert.AllStatesFreed(((TextGenerator)client.GetService(typeof(TextGenerator))!).Scheduler, model);
    }

    [Fact]
    public async Task A_follow_up_resending_the_history_resumes_from_the_kept_state()
    {
        var (client, _) = Scripted(" Hello there.\n\nUser: and more");
        var options = new ChatOptions { Temperature = 0 };
        var first = await client.GetResponseAsync(Conversation, options);
        await Task.Run(() => ((TextGenerator)client.GetService(typeof(TextGenerator))!).Scheduler.WaitIdle(TimeSpan.FromSeconds(30)));
        var second = await client.GetResponseAsync([.. Conversation, .. first.Messages, new(ChatRole.User, "Again.")], options);

        Assert.Equal(0, first.Usage!.CachedInputTokenCount);
        // Everything the first turn read: its prompt and its reply but for the last token (sampled, never fed back).
        Assert.Equal(first.Usage.InputTokenCount + first.Usage.OutputTokenCount - 1, second.Usage!.CachedInputTokenCount);
    }

    [Fact]
    public void Chat_options_map_onto_sampling_options()
    {
        var (client, _) = Scripted(" x");
        var sampling = client.ToSamplingOptions(new ChatOptions
        {
            Temperature = 0.7f, TopP = 0.5f, TopK = 40, MaxOutputTokens = 99, StopSequences = ["END"], Seed = 3,
            PresencePenalty = 0.25f, FrequencyPenalty = 0.5f,
        });
        Assert.Equal(0.7, sampling.Temperature, 1e-6);
        Assert.Equal(0.5, sampling.TopP, 1e-6);
        Assert.Equal((40, 99, 3L), (sampling.TopK, sampling.MaxTokens, sampling.Seed!.Value));
        Assert.Equal((0.25, 0.5), (sampling.PresencePenalty, sampling.FrequencyPenalty));
        Assert.Equal(["\n\n", "END"], sampling.StopSequences);

        var defaults = client.ToSamplingOptions(null);
        var configured = new GeneratorOptions();
        Assert.Equal((configured.Temperature, configured.TopP, configured.MaxTokens), (defaults.Temperature, defaults.TopP, defaults.MaxTokens));
    }

    [Fact]
    public async Task Invalid_chat_option_is_named()
    {
        var (client, _) = Scripted(" x");
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetResponseAsync(Conversation, new ChatOptions { Temperature = -1 }));
        Assert.Contains("Temperature", e.Message);
    }

    [Fact]
    public void Exposes_metadata_and_itself_as_services()
    {
        var model = new BigramTestModel();
        using var client = new RwkvChatClient(model, Tokenizer, new GeneratorOptions { ModelPath = "/models/rwkv7-g1-0.4b.pth" });
        Assert.Equal("rwkv7-g1-0.4b", client.GetService<ChatClientMetadata>()!.DefaultModelId);
        Assert.Same(client, client.GetService<IChatClient>());
        Assert.Null(client.GetService<IChatClient>("key"));
    }
}
