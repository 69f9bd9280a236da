using Rag.Retrieval.Abstractions;

namespace Rag.Ingest.Tests.Pipeline;

/// <summary>Wraps a store: records every upsert and can be told to fail for one source.</summary>
public sealed class RecordingStore(IDocumentStore inner) : IDocumentStore
{
    public List<DocumentInput> Upserts { get; } = [];

    public string? FailUpsertFor { get; set; }

    public Task<UpsertOutcome> UpsertAsync(DocumentInput document, CancellationToken cancellationToken = default)
    {
        if (document.Source == FailUpsertFor)
            throw new IOException("disk full");
        Upserts.Add(document);
        return inner.UpsertAsync(document, cancellationToken);
    }

    public Task<DocumentInfo?> FindBySourceAsync(string source, CancellationToken cancellationToken = default) => inner.FindBySourceAsync(source, cancellationToken);

    public Task<DocumentInfo?> GetDocumentAsync(string documentId, CancellationToken cancellationToken = default) => inner.GetDocumentAsync(documentId, cancellationToken);

    public Task<IReadOnlyList<ChunkRecord>> GetChunksAsync(string documentId, CancellationToken cancellationToken = default) => inner.GetChunksAsync(documentId, cancellationToken);

    public Task<IReadOnlyList<DocumentInfo>> ListDocumentsAsync(int skip, int take, CancellationToken cancellationToken = default) => inner.ListDocumentsAsync(skip, take, cancellationToken);

    public List<(string DocumentId, IReadOnlyList<string> Tags)> TagUpdates { get; } = [];

    public Task<bool> UpdateTagsAsync(string documentId, IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        TagUpdates.Add((documentId, tags));
        return inner.UpdateTagsAsync(documentId, tags, cancellationToken);
    }

    public Task<bool> DeleteDocumentAsync(string documentId, CancellationToken cancellationToken = default) => inner.DeleteDocumentAsync(documentId, cancellationToken);

    public Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default) => inner.SearchAsync(query, cancellationToken);

    public Task<bool> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
