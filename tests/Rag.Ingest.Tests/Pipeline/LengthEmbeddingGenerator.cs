using Microsoft.Extensions.AI;

namespace Rag.Ingest.Tests.Pipeline;

/// <summary>Embeds a text as the one-element vector [its length] and records each batch it was given.</summary>
public sealed class LengthEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public List<int> BatchSizes { get; } = [];

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        List<string> texts = values.ToList();
        BatchSizes.Add(texts.Count);
        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(texts.Select(t => new Embedding<float>(new float[] { t.Length }))));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
