using System.Collections.Concurrent;
using Rag.Generator.Generation;
using Rag.Generator.Model;
using Rag.Generator.Serving;
using Rag.Generator.Tokenization;
using static TorchSharp.torch;

namespace Rag.Generator.Tests;

/// <summary>Continuous batching and the state cache over the real tiny RWKV-7 fixture model.</summary>
public class GenerationSchedulerTests
{
    private static readonly WorldTokenizer Tokenizer = WorldTokenizer.Load(TinyRwkv.VocabPath);
    private static readonly SamplingOptions Greedy = new() { Temperature = 0, MaxTokens = 16 };

    /// <summary>The tiny model, recording the batch size of every decode step (forwards of one token per row).</summary>
    private sealed class WatchedModel : ILanguageModel
    {
        private readonly Rwkv7Model _inner = Rwkv7Model.Load(TinyRwkv.ModelPath, new GeneratorOptions());

        public ConcurrentQueue<int> DecodeBatches { get; } = new();
        public int VocabSize => _inner.VocabSize;
        public Device Device => _inner.Device;
        public IModelState CreateState(int batch = 1) => _inner.CreateState(batch);

        public Tensor Forward(Tensor tokens, IModelState state)
        {
            if (tokens.shape[1] == 1) DecodeBatches.Enqueue((int)tokens.shape[0]);
            return _inner.Forward(tokens, state);
        }

        public void Dispose() => _inner.Dispose();
    }

    private static async Task<string> Text(TextGeneration generation, int cancelAfterPieces = int.MaxValue)
    {
        using var cts = new CancellationTokenSource();
        var pieces = new List<string>();
        try
        {
            await foreach (var piece in generation.WithCancellation(cts.Token))
            {
                pieces.Add(piece);
                if (pieces.Count == cancelAfterPieces) await cts.CancelAsync();
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
        }
        return string.Concat(pieces);
    }

    /// <summary>Request i: its own prompt length, token limit and, for some, sampling settings (greedy or not, top-k, top-p, penalties) and stop sequences.</summary>
    private static (string Prompt, SamplingOptions Sampling) Request(int i)
    {
        var prompt = $"User: Question {i}: what is " + string.Join(" and ", Enumerable.Range(0, 1 + i % 5).Select(j => $"thing {i * 7 + j}")) + "?\n\nAssistant:";
        var sampling = Greedy with { MaxTokens = 10 + i * 3 % 11 };
        if (i % 4 == 3) sampling = sampling with { Temperature = 0.9, TopP = 0.8, Seed = 100 + i };
        if (i % 6 == 5) sampling = sampling with { Temperature = 1.2, TopK = 20, Seed = 200 + i };
        if (i % 3 == 1) sampling = sampling with { PresencePenalty = 0.5, FrequencyPenalty = 0.5, PenaltyDecay = 0.996 };
        if (i % 5 == 2) sampling = sampling with { StopSequences = ["e", "\n\n"] };
        return (prompt, sampling);
    }

    [Fact]
    public async Task Text_is_the_same_alone_and_in_a_batch_of_16_with_requests_joining_and_leaving()
    {
        using var model = new WatchedModel();
        using var scheduler = new GenerationScheduler(model, Tokenizer, new GeneratorOptions { StateCacheBytes = 0, PrefillTokensPerStep = 256, MaxBatchSize = 16 });
        var generator = new TextGenerator(scheduler);
        const int compared = 20;
        int[] leavers = [2, 5, 9];  // cancelled after two pieces, mid-batch

        var alone = new List<string>();
        for (int i = 0; i < compared; i++)
        {
            var (prompt, sampling) = Request(i);
            alone.Add(await Text(generator.Generate(prompt, sampling)));
        }
        Assert.All(model.DecodeBatches, b => Assert.Equal(1, b));
        model.DecodeBatches.Clear();

        // 16 start together (some leave early); the others wait in the queue and join as rows free up.
        var together = Enumerable.Range(0, compared + leavers.Length).Select(i =>
        {
            bool leaver = i >= compared;
            var (prompt, sampling) = Request(leaver ? leavers[i - compared] : i);
            return Task.Run(() => Text(generator.Generate(prompt, sampling with { MaxTokens = leaver ? 400 : sampling.MaxTokens }), leaver ? 2 : int.MaxValue));
        }).ToArray();
        var batched = await Task.WhenAll(together);

        Assert.Equal(alone, batched.Take(compared));
        Assert.Equal(16, model.DecodeBatches.Max());
        Assert.Contains(model.DecodeBatches, b => b is > 1 and < 16);  // rows left and joined along the way
        Assert.True(scheduler.WaitIdle(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Every_phase_of_a_step_is_timed_on_the_generator_meter()
    {
        var phases = new ConcurrentDictionary<string, int>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SchedulerMetrics.MeterName && instrument.Name == "rag.generator.step_phase_duration") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
        {
            Assert.True(seconds >= 0);
            foreach (var tag in tags) if (tag.Key == "phase") phases.AddOrUpdate((string)tag.Value!, 1, (_, n) => n + 1);
        });
        listener.Start();
        using var model = Rwkv7Model.Load(TinyRwkv.ModelPath, new GeneratorOptions());
        using var scheduler = new GenerationScheduler(model, Tokenizer, new GeneratorOptions { StateCacheBytes = 0 });

        var generation = new TextGenerator(scheduler).Generate("User: Tell me about lighthouses.\n\nAssistant:", Greedy with { MaxTokens = 5 });
        await Text(generation);

        // One prefill (the prompt), then a decode step per further token, each prepared, run and accepted.
        Assert.True(phases.GetValueOrDefault("prefill") >= 1, string.Join(", ", phases));
        int steps = generation.CompletionTokenCount - 1;
        Assert.True(steps > 0, "the prompt must lead to decode steps");
        foreach (var phase in new[] { "prepare", "decode", "accept" }) Assert.True(phases.GetValueOrDefault(phase) >= steps, $"{phase}: {string.Join(", ", phases)}");
    }

    [Fact]
    public async Task A_follow_up_resumed_from_the_state_cache_equals_the_same_prompt_from_scratch()
    {
        using var model = Rwkv7Model.Load(TinyRwkv.ModelPath, new GeneratorOptions());
        using var fresh = new GenerationScheduler(model, Tokenizer, new GeneratorOptions { StateCacheBytes = 0 });
        using var cached = new GenerationScheduler(model, Tokenizer, new GeneratorOptions { PrefillTokensPerStep = 8 });
        var first = "User: Tell me about lighthouses.\n\nAssistant:";
        var turn1 = new TextGenerator(cached).Generate(first, Greedy);
        var answer = await Text(turn1);
        Assert.True(cached.WaitIdle(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, cached.Cache.Count);

        // The conversation text continues exactly: the next turn is appended to the prompt and the answer.
        var followUp = first + answer + "\n\nUser: Who keeps them?\n\nAssistant:";
        var ids = cached.Encode(followUp);
        var resumed = new TextGenerator(cached).Generate(ids, Greedy);
        var resumedText = await Text(resumed);
        var scratch = new TextGenerator(fresh).Generate(ids, Greedy);
        var scratchText = await Text(scratch);

        Assert.Equal(turn1.PromptTokenCount + turn1.CompletionTokenCount - 1, resumed.CachedPromptTokenCount);
        Assert.Equal(0, scratch.CachedPromptTokenCount);
        Assert.Equal(scratchText, resumedText);
        Assert.NotEmpty(resumedText);
    }

    [Fact]
    public async Task A_full_queue_refuses_with_a_retry_delay_and_a_disconnect_frees_the_slot_at_once()
    {
        using var model = Rwkv7Model.Load(TinyRwkv.ModelPath, new GeneratorOptions());
        using var scheduler = new GenerationScheduler(model, Tokenizer, new GeneratorOptions { MaxBatchSize = 1, MaxQueuedRequests = 1, StateCacheBytes = 0 });
        var generator = new TextGenerator(scheduler);
        var endless = Greedy with { MaxTokens = 100_000 };

        using var cts = new CancellationTokenSource();
        var running = generator.Generate("User: Count to a million.\n\nAssistant:", endless);
        await using var first = running.GetAsyncEnumerator(cts.Token);
        Assert.True(await first.MoveNextAsync());  // it holds the only row
        var waiting = generator.Generate("User: Hello.\n\nAssistant:", Greedy);
        var waitingText = Text(waiting);            // queued behind it
        var busy = await Assert.ThrowsAsync<GeneratorBusyException>(async () => await Text(generator.Generate("User: Hi.\n\nAssistant:", Greedy)));
        Assert.True(busy.RetryAfter >= TimeSpan.FromSeconds(1));
        Assert.Contains("MaxQueuedRequests", busy.Message);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await first.MoveNextAsync());
        await waitingText;  // runs only once the cancelled request has given its row back
        Assert.NotNull(waiting.FinishReason);
        Assert.True(running.CompletionTokenCount < 10_000, $"the cancelled request ran on for {running.CompletionTokenCount} tokens");
    }
}
