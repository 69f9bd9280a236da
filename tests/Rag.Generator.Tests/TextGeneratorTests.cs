using Rag.Generator.Generation;
using Rag.Generator.Tokenization;

namespace Rag.Generator.Tests;

public class TextGeneratorTests
{
    private static readonly WorldTokenizer Tokenizer = WorldVocabulary.Tokenizer;
    private const string Prompt = "The answer is";
    private static readonly SamplingOptions Greedy = new() { Temperature = 0 };

    private static (TextGenerator Generator, ScriptedTestModel Model) Scripted(string continuation, bool endOfText = false, GeneratorOptions? options = null)
    {
        var script = Tokenizer.EncodeToIds(continuation).ToList();
        if (endOfText) script.Add(WorldTokenizer.EndOfTextId);
        var model = new ScriptedTestModel(script, Tokenizer.CountTokens(Prompt));
        return (new TextGenerator(model, Tokenizer, options), model);
    }

    private static async Task<(List<string> Pieces, TextGeneration Run)> Collect(TextGeneration generation, CancellationToken ct = default)
    {
        var pieces = new List<string>();
        await foreach (var piece in generation.WithCancellation(ct)) pieces.Add(piece);
        return (pieces, generation);
    }

    [Fact]
    public async Task Continues_the_prompt_until_end_of_text()
    {
        var (generator, model) = Scripted(" forty-two, 🚀 café.", endOfText: true);
        var (pieces, run) = await Collect(generator.Generate(Prompt, Greedy));

        Assert.Equal(" forty-two, 🚀 café.", string.Concat(pieces));
        Assert.Equal(FinishReason.Stop, run.FinishReason);
        Assert.Equal(Tokenizer.CountTokens(Prompt), run.PromptTokenCount);
        Assert.Equal(Tokenizer.CountTokens(" forty-two, 🚀 café.") + 1, run.CompletionTokenCount);
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        await SchedulerAssert.AllStatesFreed(generator.Scheduler, model);
    }

    [Fact]
    public async Task Stop_sequence_spanning_tokens_ends_before_it()
    {
        var continuation = " Hello world! Goodbye";
        Assert.True(Tokenizer.EncodeToIds(continuation).Count >= 4);
        var (generator, model) = Scripted(continuation);
        var (pieces, run) = await Collect(generator.Generate(Prompt, Greedy with { StopSequences = ["d! G"] }));

        Assert.Equal(" Hello worl", string.Concat(pieces));
        Assert.Equal(FinishReason.Stop, run.FinishReason);
        Assert.Equal(Tokenizer.CountTokens(" Hello world! Good"), run.CompletionTokenCount);
        await SchedulerAssert.AllStatesFreed(generator.Scheduler, model);
    }

    [Fact]
    public async Task Max_tokens_ends_with_length()
    {
        var (generator, _) = Scripted(" one two three four five");
        var (pieces, run) = await Collect(generator.Generate(Prompt, Greedy with { MaxTokens = 2 }));

        Assert.Equal(" one two", string.Concat(pieces));
        Assert.Equal(FinishReason.Length, run.FinishReason);
        Assert.Equal(2, run.CompletionTokenCount);
    }

    [Fact]
    public async Task Prompt_is_prefilled_in_slices_then_decoded_token_by_token()
    {
        var (generator, model) = Scripted(" a b c", endOfText: true, new GeneratorOptions { PrefillTokensPerStep = 2 });
        var promptTokens = Tokenizer.CountTokens(Prompt);
        await Collect(generator.Generate(Prompt, Greedy));

        var lengths = model.ForwardLengths.ToArray();
        var prefill = Enumerable.Range(0, (promptTokens + 1) / 2).Select(i => (long)Math.Min(2, promptTokens - 2 * i));
        Assert.Equal(prefill, lengths.Take(prefill.Count()));
        Assert.All(lengths.Skip(prefill.Count()), l => Assert.Equal(1, l));
    }

    [Fact]
    public async Task Cancellation_mid_stream_ends_it_and_disposes_the_state()
    {
        var (generator, model) = Scripted(" and so on and so on and so on");
        using var cts = new CancellationTokenSource();
        var pieces = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var piece in generator.Generate(Prompt, Greedy).WithCancellation(cts.Token))
            {
                pieces.Add(piece);
                cts.Cancel();
            }
        });
        Assert.Single(pieces);
        await SchedulerAssert.AllStatesFreed(generator.Scheduler, model);
    }

    [Fact]
    public async Task Leaving_the_loop_early_disposes_the_state()
    {
        var (generator, model) = Scripted(" and so on and so on");
        await foreach (var _ in generator.Generate(Prompt, Greedy)) break;
        await SchedulerAssert.AllStatesFreed(generator.Scheduler, model);
    }

    [Fact]
    public async Task Concurrent_generations_each_own_their_state()
    {
        var model = new BigramTestModel();
        var generator = new TextGenerator(model, Tokenizer);
        var options = new SamplingOptions { Seed = 5, MaxTokens = 12 };
        var alone = string.Concat((await Collect(generator.Generate("One prompt", options))).Pieces);
        var other = string.Concat((await Collect(generator.Generate("Another question", options))).Pieces);

        var together = await Task.WhenAll(
            Task.Run(async () => string.Concat((await Collect(generator.Generate("One prompt", options))).Pieces)),
            Task.Run(async () => string.Concat((await Collect(generator.Generate("Another question", options))).Pieces)));

        Assert.Equal([alone, other], together);
        Assert.NotEqual(alone, other);
        await SchedulerAssert.AllStatesFreed(generator.Scheduler, model);
    }

    [Fact]
    public void Too_long_prompt_is_rejected_with_the_limit()
    {
        var (generator, _) = Scripted(" x", options: new GeneratorOptions { MaxPromptTokens = 2 });
        var e = Assert.Throws<ArgumentException>(() => generator.Generate(Prompt, Greedy));
        Assert.Contains("MaxPromptTokens = 2", e.Message);
    }

    [Fact]
    public void Empty_prompt_is_rejected()
    {
        var (generator, _) = Scripted(" x");
        Assert.Throws<ArgumentException>(() => generator.Generate("", Greedy));
    }

    [Fact]
    public async Task A_generation_runs_only_once()
    {
        var (generator, _) = Scripted(" x", endOfText: true);
        var generation = generator.Generate(Prompt, Greedy);
        await Collect(generation);
        Assert.Throws<InvalidOperationException>(() => generation.GetAsyncEnumerator());
    }
}
