using Microsoft.Extensions.AI;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Embeddings;

namespace Rag.Orchestrator.Answering;

/// <summary>Passages for a query, and which retrieval mode produced them.</summary>
public sealed record RetrievedPassages(SearchMode Mode, IReadOnlyList<SearchHit> Hits);

/// <summary>
/// Turns a query into ranked passages: hybrid (BM25 + dense, fused) when an embedding model is
/// configured, BM25 otherwise. The store does the ranking; this class picks the mode and embeds the query.
/// </summary>
public sealed class PassageRetriever(IDocumentStore store, IEmbeddingGenerator<string, Embedding<float>>? embedder = null)
{
    public SearchMode DefaultMode => embedder is null ? SearchMode.Bm25 : SearchMode.Hybrid;

    public bool HasEmbedder => embedder is not null;

    public async Task<RetrievedPassages> RetrieveAsync(string query, int k, SearchMode? mode = null, SearchFilter? filter = null,
        CancellationToken cancellationToken = default)
    {
        var chosen = mode ?? DefaultMode;
        ReadOnlyMemory<float> vector = default;
        if (chosen != SearchMode.Bm25)
        {
            if (embedder is null)
                throw new RagInputException($"Search mode '{chosen}' needs an embedding model: set Embeddings:ModelDirectory, or use mode bm25.");
            vector = (await embedder.GenerateAsync([query], EmbeddingInputType.ForQuery(), cancellationToken))[0].Vector;
        }
        var hits = await store.SearchAsync(new SearchQuery(query, vector, k, chosen, filter), cancellationToken);
        return new RetrievedPassages(chosen, hits);
    }
}
