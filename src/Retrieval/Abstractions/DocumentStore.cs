namespace Rag.Retrieval.Abstractions;

/// <summary>
/// The one storage contract behind the embedded SQLite store and Qdrant. A document is keyed by its
/// <see cref="DocumentInput.Source"/>: the same source with the same content hash is a no-op, a new hash
/// replaces every chunk of that document atomically.
/// </summary>
public interface IDocumentStore : IAsyncDisposable
{
    /// <summary>Stores a document and its chunks in one transaction (all or nothing).</summary>
    Task<UpsertOutcome> UpsertAsync(DocumentInput document, CancellationToken cancellationToken = default);

    /// <summary>The stored document for a source, so callers can skip chunking/embedding unchanged content.</summary>
    Task<DocumentInfo?> FindBySourceAsync(string source, CancellationToken cancellationToken = default);

    Task<DocumentInfo?> GetDocumentAsync(string documentId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ChunkRecord>> GetChunksAsync(string documentId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<DocumentInfo>> ListDocumentsAsync(int skip, int take, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces a document's tags (and its update time), leaving its chunks and vectors as they are: re-ingesting
    /// unchanged content with other tags needs no chunking or embedding. False when the document does not exist.
    /// </summary>
    Task<bool> UpdateTagsAsync(string documentId, IReadOnlyList<string> tags, CancellationToken cancellationToken = default);

    /// <summary>Removes a document and all its chunks; false when it did not exist.</summary>
    Task<bool> DeleteDocumentAsync(string documentId, CancellationToken cancellationToken = default);

    /// <summary>Ranked passages, best first. BM25 needs <see cref="SearchQuery.Text"/>, dense needs <see cref="SearchQuery.Vector"/>.</summary>
    Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default);

    /// <summary>Checks the store can be reached (readiness).</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken = default);
}

/// <summary>A store that can check its own storage for damage (e.g. after a crash); `rag store check` runs it when the store has it.</summary>
public interface IStoreIntegrityCheck
{
    /// <summary>"ok" when the storage is sound, else what is wrong.</summary>
    Task<string> CheckIntegrityAsync(CancellationToken cancellationToken = default);
}

public enum UpsertOutcome { Added, Unchanged, Replaced }

public enum SearchMode { Bm25, Dense, Hybrid }

/// <param name="Embedding">Dense vector of the chunk, or empty when no encoder is configured.</param>
public sealed record ChunkInput(int Ordinal, string Text, int TokenCount, int StartOffset, int EndOffset, ReadOnlyMemory<float> Embedding);

public sealed record DocumentInput(
    string Source,
    string ContentHash,
    string? Title,
    IReadOnlyList<string> Tags,
    IReadOnlyList<ChunkInput> Chunks);

public sealed record DocumentInfo(
    string Id,
    string Source,
    string ContentHash,
    string? Title,
    IReadOnlyList<string> Tags,
    int ChunkCount,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public sealed record ChunkRecord(string Id, string DocumentId, int Ordinal, string Text, int TokenCount, int StartOffset, int EndOffset);

/// <summary>Payload filters; every non-null field must match (AND).</summary>
public sealed record SearchFilter(
    IReadOnlyList<string>? DocumentIds = null,
    IReadOnlyList<string>? Tags = null,
    string? SourcePrefix = null,
    DateTimeOffset? UpdatedFrom = null,
    DateTimeOffset? UpdatedTo = null);

public sealed record SearchQuery(string Text, ReadOnlyMemory<float> Vector, int K, SearchMode Mode, SearchFilter? Filter = null);

public sealed record SearchHit(
    string ChunkId,
    string DocumentId,
    string Source,
    string? Title,
    int Ordinal,
    string Text,
    int TokenCount,
    double Score);
