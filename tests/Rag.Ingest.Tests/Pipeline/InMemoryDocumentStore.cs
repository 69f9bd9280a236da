using Rag.Retrieval.Abstractions;

namespace Rag.Ingest.Tests.Pipeline;

/// <summary>
/// The upsert and lookup half of the store contract in memory (same source + hash = unchanged, new hash =
/// replace all chunks); search is out of scope for ingestion tests.
/// </summary>
public sealed class InMemoryDocumentStore : IDocumentStore
{
    private readonly Dictionary<string, (DocumentInfo Info, IReadOnlyList<ChunkRecord> Chunks)> _bySource = new(StringComparer.Ordinal);

    public Task<UpsertOutcome> UpsertAsync(DocumentInput document, CancellationToken cancellationToken = default)
    {
        UpsertOutcome outcome = UpsertOutcome.Added;
        DateTimeOffset now = DateTimeOffset.UtcNow, created = now;
        if (_bySource.TryGetValue(document.Source, out var stored))
        {
            if (stored.Info.ContentHash == document.ContentHash)
                return Task.FromResult(UpsertOutcome.Unchanged);
            outcome = UpsertOutcome.Replaced;
            created = stored.Info.CreatedAt;
        }

        string id = "doc-" + document.Source;
        var info = new DocumentInfo(id, document.Source, document.ContentHash, document.Title, document.Tags, document.Chunks.Count, created, now);
        var chunks = document.Chunks
            .Select(c => new ChunkRecord($"{id}#{c.Ordinal}", id, c.Ordinal, c.Text, c.TokenCount, c.StartOffset, c.EndOffset))
            .ToList();
        _bySource[document.Source] = (info, chunks);
        return Task.FromResult(outcome);
    }

    public Task<DocumentInfo?> FindBySourceAsync(string source, CancellationToken cancellationToken = default) =>
        Task.FromResult(_bySource.TryGetValue(source, out var stored) ? stored.Info : null);

    public Task<DocumentInfo?> GetDocumentAsync(string documentId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_bySource.Values.Select(v => v.Info).FirstOrDefault(i => i.Id == documentId));

    public Task<IReadOnlyList<ChunkRecord>> GetChunksAsync(string documentId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_bySource.Values.FirstOrDefault(v => v.Info.Id == documentId).Chunks ?? []);

    public Task<IReadOnlyList<DocumentInfo>> ListDocumentsAsync(int skip, int take, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<DocumentInfo>>(_bySource.Values.Select(v => v.Info).OrderBy(i => i.Source, StringComparer.Ordinal).Skip(skip).Take(take).ToList());

    public Task<bool> UpdateTagsAsync(string documentId, IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        var stored = _bySource.Values.FirstOrDefault(v => v.Info.Id == documentId);
        if (stored.Info is null) return Task.FromResult(false);
        _bySource[stored.Info.Source] = (stored.Info with { Tags = tags, UpdatedAt = DateTimeOffset.UtcNow }, stored.Chunks);
        return Task.FromResult(true);
    }

    public Task<bool> DeleteDocumentAsync(string documentId, CancellationToken cancellationToken = default)
    {
        string? source = _bySource.Values.Select(v => v.Info).FirstOrDefault(i => i.Id == documentId)?.Source;
        return Task.FromResult(source is not null && _bySource.Remove(source));
    }

    public Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Ingestion tests do not search.");

    public Task<bool> PingAsync(CancellationToken cancellationToken = default) => Task.FromResult(true);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
