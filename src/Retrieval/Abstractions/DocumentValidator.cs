using Rag.Retrieval.Embedded;

namespace Rag.Retrieval.Abstractions;

/// <summary>Rejects a document before any store writes anything (every store calls it); every message names the source.</summary>
internal static class DocumentValidator
{
    /// <returns>The normalised embedding of each chunk, null where the chunk has none.</returns>
    public static float[]?[] Validate(DocumentInput document)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (string.IsNullOrWhiteSpace(document.Source))
            throw new ArgumentException("Document source must not be empty.", nameof(document));
        var source = document.Source;
        if (string.IsNullOrEmpty(document.ContentHash))
            throw new ArgumentException($"Document '{source}' has an empty content hash.", nameof(document));
        if (document.Chunks is null)
            throw new ArgumentException($"Document '{source}' has no chunk list.", nameof(document));

        var ordinals = new HashSet<int>();
        var vectors = new float[]?[document.Chunks.Count];
        int? dimension = null;
        for (var i = 0; i < document.Chunks.Count; i++)
        {
            var chunk = document.Chunks[i] ?? throw new ArgumentException($"Document '{source}' has a null chunk at index {i}.", nameof(document));
            if (chunk.Ordinal < 0)
                throw new ArgumentException($"Document '{source}': chunk ordinal {chunk.Ordinal} is negative.", nameof(document));
            if (!ordinals.Add(chunk.Ordinal))
                throw new ArgumentException($"Document '{source}': chunk ordinal {chunk.Ordinal} appears more than once.", nameof(document));
            if (chunk.Text is null)
                throw new ArgumentException($"Document '{source}': chunk {chunk.Ordinal} has no text.", nameof(document));
            if (chunk.Embedding.IsEmpty) continue;

            dimension ??= chunk.Embedding.Length;
            if (chunk.Embedding.Length != dimension)
                throw new ArgumentException(
                    $"Document '{source}': chunk {chunk.Ordinal} has embedding dimension {chunk.Embedding.Length}, other chunks have {dimension}.",
                    nameof(document));
            vectors[i] = VectorMath.Normalised(chunk.Embedding.Span)
                ?? throw new ArgumentException($"Document '{source}': chunk {chunk.Ordinal} has a zero or non-finite embedding.", nameof(document));
        }
        return vectors;
    }
}
