using System.Diagnostics;
using System.Runtime.CompilerServices;
using Rag.Generator.Model;
using Rag.Generator.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Generation;

/// <summary>
/// Generates text from a prompt with a recurrent <see cref="ILanguageModel"/>: the prompt is prefilled in chunks
/// into a fresh state, then tokens are sampled and fed back one at a time.
/// </summary>
/// <remarks>
/// Each generation owns its state, so any number may run at once; but the model's weights and forward pass are
/// shared and not safe to run concurrently (nor would parallel forwards on one device be faster), so every
/// forward call is serialised by one <see cref="SemaphoreSlim"/> per model. The lock is taken per call, not per
/// generation, so concurrent requests interleave token by token instead of waiting for each other to finish.
/// </remarks>
public sealed class TextGenerator
{
    public static readonly ActivitySource ActivitySource = new("Rag.Generator");

    private static readonly ConditionalWeakTable<ILanguageModel, SemaphoreSlim> ModelLocks = new();

    private readonly ILanguageModel _model;
    private readonly WorldTokenizer _tokenizer;
    private readonly GeneratorOptions _options;
    private readonly SemaphoreSlim _modelLock;

    public TextGenerator(ILanguageModel model, WorldTokenizer tokenizer, GeneratorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        _options = options ?? new GeneratorOptions();
        if (_options.ChunkLength < 1) throw new ArgumentOutOfRangeException(nameof(options), _options.ChunkLength, "Generator:ChunkLength must be >= 1.");
        if (_options.MaxPromptTokens < 1) throw new ArgumentOutOfRangeException(nameof(options), _options.MaxPromptTokens, "Generator:MaxPromptTokens must be >= 1.");
        _model = model;
        _tokenizer = tokenizer;
        _modelLock = ModelLocks.GetValue(model, _ => new SemaphoreSlim(1, 1));
    }

    public WorldTokenizer Tokenizer => _tokenizer;

    /// <summary>
    /// Prepares a generation of a continuation of <paramref name="prompt"/>; work starts when it is enumerated.
    /// </summary>
    /// <exception cref="ArgumentException">The prompt is empty or longer than MaxPromptTokens; an option is invalid.</exception>
    public TextGeneration Generate(string prompt, SamplingOptions sampling)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(sampling);
        sampling.Validate();
        var promptIds = _tokenizer.EncodeToIds(prompt).Select(id => (long)id).ToArray();
        if (promptIds.Length == 0) throw new ArgumentException("The prompt is empty: the model needs at least one token.", nameof(prompt));
        if (promptIds.Length > _options.MaxPromptTokens)
            throw new ArgumentException($"The prompt has {promptIds.Length} tokens, more than Generator:MaxPromptTokens = {_options.MaxPromptTokens}.", nameof(prompt));
        return new TextGeneration(promptIds.Length, (generation, ct) => RunAsync(generation, promptIds, sampling, ct));
    }

    private async IAsyncEnumerable<string> RunAsync(TextGeneration generation, long[] promptIds, SamplingOptions sampling,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var activity = ActivitySource.StartActivity("generate");
        activity?.SetTag("gen_ai.usage.input_tokens", promptIds.Length);
        using var state = _model.CreateState(batch: 1);
        var sampler = new Sampler(sampling);
        var decoder = _tokenizer.CreateStreamingDecoder();
        var stops = new StopSequenceFilter(sampling.StopSequences);
        var tokenCounts = new Dictionary<int, int>();
        // Ids the model may emit beyond the vocabulary (padding of the embedding) are never sampled.
        var vocabSize = Math.Min(_model.VocabSize, _tokenizer.VocabSize);

        var finishReason = FinishReason.Stop;  // end of text or a stop sequence, unless the limit is hit
        Tensor? logits = null;  // [1, V] after the latest forward
        try
        {
            // The prompt goes to the model a segment at a time (the model runs each in parallel chunks); the
            // model lock is released between segments so a long prompt does not starve other requests.
            using (var prefill = ActivitySource.StartActivity("prefill"))
            {
                prefill?.SetTag("gen_ai.usage.input_tokens", promptIds.Length);
                for (var start = 0; start < promptIds.Length; start += _options.SegmentLength)
                {
                    logits?.Dispose();
                    logits = await ForwardAsync(promptIds[start..Math.Min(start + _options.SegmentLength, promptIds.Length)], state, cancellationToken);
                }
            }

            // Decode spans the token loop; it ends with the enumeration (tags say how many tokens it produced).
            using var decode = ActivitySource.StartActivity("decode");

            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int token;
                using (var vocabLogits = logits!.narrow(1, 0, vocabSize)) token = sampler.Sample(vocabLogits, tokenCounts);
                generation.CompletionTokenCount++;
                if (token == WorldTokenizer.EndOfTextId) break;
                tokenCounts[token] = tokenCounts.GetValueOrDefault(token) + 1;

                var text = stops.Push(decoder.Append(token));
                if (text.Length > 0) yield return text;
                if (stops.Stopped) break;
                if (generation.CompletionTokenCount >= sampling.MaxTokens)
                {
                    finishReason = FinishReason.Length;
                    break;
                }

                logits.Dispose();
                logits = await ForwardAsync([token], state, cancellationToken);
            }

            // An unfinished character or held-back text that did not become a stop sequence is still output.
            var rest = stops.Push(decoder.Flush());
            rest += stops.Flush();
            if (rest.Length > 0) yield return rest;

            generation.FinishReason = stops.Stopped ? FinishReason.Stop : finishReason;
            decode?.SetTag("gen_ai.usage.output_tokens", generation.CompletionTokenCount);
            activity?.SetTag("gen_ai.usage.output_tokens", generation.CompletionTokenCount);
            activity?.SetTag("gen_ai.response.finish_reasons", generation.FinishReason.ToString());
        }
        finally
        {
            logits?.Dispose();
        }
    }

    private async Task<Tensor> ForwardAsync(long[] tokens, IModelState state, CancellationToken cancellationToken)
    {
        await _modelLock.WaitAsync(cancellationToken);
        try
        {
            // Grad mode is per thread, so it is set here, around the synchronous call, not across awaits.
            using var noGrad = torch.no_grad();
            using var input = torch.tensor(tokens, [1, tokens.Length], device: _model.Device);
            return _model.Forward(input, state);
        }
        finally
        {
            _modelLock.Release();
        }
    }
}
