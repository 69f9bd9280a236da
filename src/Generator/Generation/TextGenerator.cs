using System.Diagnostics;
using System.Runtime.CompilerServices;
using Rag.Generator.Model;
using Rag.Generator.Serving;
using Rag.Generator.Tokenization;

namespace Rag.Generator.Generation;

/// <summary>
/// Generates text from a prompt with a recurrent <see cref="ILanguageModel"/>, through the model's
/// <see cref="GenerationScheduler"/>: the prompt is prefilled (or resumed from a kept state), then tokens are
/// sampled and fed back, in one batch with every other generation running on the model.
/// </summary>
public sealed class TextGenerator
{
    public static ActivitySource ActivitySource => GenerationScheduler.ActivitySource;

    private readonly GenerationScheduler _scheduler;
    private readonly GeneratorOptions _options;

    /// <summary>A generator on the model's shared scheduler (created with <paramref name="options"/> by its first user).</summary>
    public TextGenerator(ILanguageModel model, WorldTokenizer tokenizer, GeneratorOptions? options = null)
        : this(GenerationScheduler.For(model, tokenizer, options ?? new GeneratorOptions()), options)
    {
    }

    public TextGenerator(GenerationScheduler scheduler, GeneratorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        _scheduler = scheduler;
        _options = options ?? scheduler.Options;
        if (_options.MaxPromptTokens < 1) throw new ArgumentOutOfRangeException(nameof(options), _options.MaxPromptTokens, "Generator:MaxPromptTokens must be >= 1.");
    }

    public WorldTokenizer Tokenizer => _scheduler.Tokenizer;

    public GenerationScheduler Scheduler => _scheduler;

    /// <summary>
    /// Prepares a generation of a continuation of <paramref name="prompt"/>; work starts when it is enumerated.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt is empty or longer than MaxPromptTokens; an option is invalid.</exception>
    public TextGeneration Generate(string prompt, SamplingOptions sampling)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return Generate(_scheduler.Encode(prompt), sampling);
    }

    /// <summary>A generation of a continuation of the token ids <paramref name="promptIds"/>.</summary>
    /// <exception cref="ArgumentException">The prompt is empty or longer than MaxPromptTokens; an option is invalid.</exception>
    public TextGeneration Generate(int[] promptIds, SamplingOptions sampling)
    {
        ArgumentNullException.ThrowIfNull(promptIds);
        ArgumentNullException.ThrowIfNull(sampling);
        sampling.Validate();
        if (promptIds.Length == 0) throw new ArgumentException("The prompt is empty: the model needs at least one token.", nameof(promptIds));
        if (promptIds.Length > _options.MaxPromptTokens)
            throw new ArgumentException($"The prompt has {promptIds.Length} tokens, more than Generator:MaxPromptTokens = {_options.MaxPromptTokens}.", nameof(promptIds));
        return new TextGeneration(promptIds.Length, (generation, ct) => RunAsync(generation, promptIds, sampling, ct));
    }

    private async IAsyncEnumerable<string> RunAsync(TextGeneration generation, int[] promptIds, SamplingOptions sampling,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var activity = ActivitySource.StartActivity("generate");
        activity?.SetTag("gen_ai.usage.input_tokens", promptIds.Length);
        var sequence = _scheduler.Submit(promptIds, sampling, generation);
        // However the enumeration ends (cancelled, abandoned, finished), the sequence leaves the batch at the next step.
        try
        {
            await foreach (var piece in sequence.Output.Reader.ReadAllAsync(cancellationToken))
            {
                // Pieces may already be waiting: a cancelled enumeration must still end now.
                cancellationToken.ThrowIfCancellationRequested();
                yield return piece;
            }
        }
        finally
        {
            sequence.Cancel();
        }
        activity?.SetTag("gen_ai.usage.output_tokens", generation.CompletionTokenCount);
        activity?.SetTag("gen_ai.response.finish_reasons", generation.FinishReason.ToString());
        activity?.SetTag("rag.cached_tokens", generation.CachedPromptTokenCount);
    }
}
