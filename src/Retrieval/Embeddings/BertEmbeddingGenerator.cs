using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Rag.Retrieval.Embeddings;

/// <summary>
/// <see cref="IEmbeddingGenerator{TInput,TEmbedding}"/> over a local BERT checkpoint. Inputs are passages unless
/// the options say otherwise (<see cref="EmbeddingInputType"/>); the matching prefix from
/// <see cref="BertEmbeddingOptions"/> is prepended before tokenization.
/// </summary>
public sealed class BertEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public const string ProviderName = "rag-bert";

    private static readonly ActivitySource Activity = new("Rag.Retrieval.Embeddings");

    private readonly BertEncoder _encoder;
    private readonly BertEmbeddingOptions _options;
    private readonly EmbeddingGeneratorMetadata _metadata;

    public BertEmbeddingGenerator(IOptions<BertEmbeddingOptions> options, ILogger<BertEmbeddingGenerator>? logger = null)
        : this(options.Value, logger)
    {
    }

    public BertEmbeddingGenerator(BertEmbeddingOptions options, ILogger<BertEmbeddingGenerator>? logger = null)
    {
        _options = options;
        _encoder = BertEncoder.Load(options);
        var modelId = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.ModelDirectory)));
        _metadata = new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, modelId, _encoder.Dimensions);
        (logger ?? NullLogger<BertEmbeddingGenerator>.Instance).LogInformation(
            "Loaded BERT encoder {Model} ({Dimensions} dimensions, {Pooling} pooling, max {MaxTokens} tokens) on {Device}",
            modelId, _encoder.Dimensions, options.Pooling, _encoder.MaxSequenceLength, options.Device);
    }

    public int Dimensions => _encoder.Dimensions;

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is int requested && requested != _encoder.Dimensions)
            throw new NotSupportedException($"Requested {requested} embedding dimensions but model '{_metadata.DefaultModelId}' produces {_encoder.Dimensions}");

        var prefix = EmbeddingInputType.IsQuery(options) ? _options.QueryPrefix : _options.PassagePrefix;
        var texts = values.Select(v => prefix + v).ToArray();
        using var activity = Activity.StartActivity("embeddings.generate");
        activity?.SetTag("embeddings.inputs", texts.Length);

        var (vectors, tokens) = _encoder.Encode(texts, cancellationToken);
        activity?.SetTag("embeddings.tokens", tokens);
        var created = DateTimeOffset.UtcNow;
        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v)
        {
            ModelId = _metadata.DefaultModelId,
            CreatedAt = created,
        }))
        {
            Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens },
        };
        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return _metadata;
        if (serviceType == typeof(BertEncoder)) return _encoder;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose() => _encoder.Dispose();
}
