using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rag.Retrieval.Abstractions;
using static Rag.Retrieval.Qdrant.QdrantCollection;
using P = Rag.Retrieval.Qdrant.QdrantPayload;

namespace Rag.Retrieval.Qdrant;

/// <summary>
/// <see cref="IDocumentStore"/> over Qdrant's REST API. One collection (<see cref="QdrantCollection"/>) holds two kinds
/// of points: chunks, with a dense vector and a BM25 sparse vector, and document records without vectors.
/// Qdrant has no transactions, so a write orders its steps so that readers never see a document without chunks:
/// new chunks (ids include the content hash) → the document record (the commit point) → deletion of the previous
/// version's chunks. A failure before the commit point removes the new chunks again.
/// </summary>
public sealed class QdrantDocumentStore : IDocumentStore
{
    private const int ScrollPageSize = 256;

    private static readonly ActivitySource Activity = new("Rag.Retrieval.Qdrant");
    private static readonly PayloadSelector SearchPayload = new([P.SourcePrefixes]);

    private readonly QdrantRestClient _client;
    private readonly QdrantCollection _collection;
    private readonly QdrantOptions _options;
    private readonly Bm25SparseVectorizer _bm25;
    private readonly ILogger _logger;

    public QdrantDocumentStore(HttpClient httpClient, IOptions<QdrantOptions> options, ILogger<QdrantDocumentStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        _options = options.Value;
        _options.Validate();
        _logger = logger ?? NullLogger<QdrantDocumentStore>.Instance;
        _client = new QdrantRestClient(httpClient, _options);
        _collection = new QdrantCollection(_client, _options, _logger);
        _bm25 = new Bm25SparseVectorizer(_options.Bm25K1, _options.Bm25B, _options.Bm25AverageLength);
    }

    private string Points => _client.CollectionPath + "/points";

    public async Task<UpsertOutcome> UpsertAsync(DocumentInput document, CancellationToken cancellationToken = default)
    {
        var embeddingSize = Validate(document);
        var schema = await _collection.EnsureAsync(embeddingSize, cancellationToken);
        if (embeddingSize is int size && size != schema.DenseSize)
            throw new ArgumentException(schema.DenseSize is null
                ? $"Document '{document.Source}' has {size}-dimensional embeddings but Qdrant collection '{_collection.Name}' was created without dense vectors"
                : $"Document '{document.Source}' has {size}-dimensional embeddings but Qdrant collection '{_collection.Name}' stores {schema.DenseSize}", nameof(document));
        using var activity = Activity.StartActivity("qdrant.upsert");
        activity?.SetTag("rag.source", document.Source);

        var documentId = PointIds.ForDocument(document.Source);
        var existing = await GetDocumentPayloadAsync(documentId, cancellationToken);
        if (existing?.ContentHash == document.ContentHash) return UpsertOutcome.Unchanged;

        var now = Now();
        try
        {
            foreach (var batch in document.Chunks.Chunk(_options.UpsertBatchSize))
                await UpsertPointsAsync(batch.Select(c => ChunkPoint(documentId, document, c, now)).ToArray(), cancellationToken);
            await UpsertPointsAsync([DocumentPoint(documentId, document, existing?.CreatedAt ?? now, now)], cancellationToken);
        }
        catch
        {
            await RemoveAsync(new Filter([P.Is(P.DocumentId, documentId), P.Is(P.Kind, P.ChunkKind), P.Is(P.ContentHash, document.ContentHash)]),
                "new chunks of a failed upsert", document.Source);
            throw;
        }

        if (existing is null) return UpsertOutcome.Added;
        await RemoveAsync(new Filter([P.Is(P.DocumentId, documentId), P.Is(P.Kind, P.ChunkKind)], MustNot: [P.Is(P.ContentHash, document.ContentHash)]),
            "chunks of the replaced version", document.Source);
        return UpsertOutcome.Replaced;
    }

    public async Task<DocumentInfo?> FindBySourceAsync(string source, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        return await GetDocumentAsync(PointIds.ForDocument(source), cancellationToken);
    }

    public async Task<DocumentInfo?> GetDocumentAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        // Every id this store hands out is a UUID; anything else cannot name a stored document.
        if (!Guid.TryParse(documentId, out _) || await _collection.FindAsync(cancellationToken) is null) return null;
        var payload = await GetDocumentPayloadAsync(documentId, cancellationToken);
        return payload is null ? null : ToDocumentInfo(documentId, payload);
    }

    public async Task<IReadOnlyList<ChunkRecord>> GetChunksAsync(string documentId, CancellationToken cancellationToken = default)
    {
        var document = await GetDocumentAsync(documentId, cancellationToken);
        if (document is null) return [];
        // Only the committed version: a concurrent replacement may have added chunks of another hash.
        var filter = new Filter([P.Is(P.DocumentId, documentId), P.Is(P.Kind, P.ChunkKind), P.Is(P.ContentHash, document.ContentHash)]);
        var points = await ScrollAsync(filter, cancellationToken);
        return points.Select(p => ToChunkRecord(p.Id, p.Payload!)).OrderBy(c => c.Ordinal).ToArray();
    }

    /// <summary>
    /// Documents in ordinal order of their source. Qdrant can only order by numeric or datetime fields, so every
    /// document record (a small payload, no vectors) is read and sorted here: one scroll per call.
    /// </summary>
    public async Task<IReadOnlyList<DocumentInfo>> ListDocumentsAsync(int skip, int take, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegative(take);
        if (take == 0 || await _collection.FindAsync(cancellationToken) is null) return [];
        var records = await ScrollAsync(new Filter([P.Is(P.Kind, P.DocumentKind)]), cancellationToken);
        return records.Select(p => ToDocumentInfo(p.Id, p.Payload!))
            .OrderBy(d => d.Source, StringComparer.Ordinal)
            .Skip(skip).Take(take).ToArray();
    }

    public async Task<bool> UpdateTagsAsync(string documentId, IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        if (await GetDocumentAsync(documentId, cancellationToken) is null) return false;
        // The record and every chunk carry the tags (chunks are what searches filter); one filter reaches them all.
        await _client.SendAsync(HttpMethod.Post, Points + "/payload?wait=true",
            new SetPayloadRequest(new TagsPayload(tags.Distinct(StringComparer.Ordinal).ToArray(), Now()), new Filter([P.Is(P.DocumentId, documentId)])),
            QdrantJsonContext.Default.SetPayloadRequest, cancellationToken);
        return true;
    }

    /// <summary>Microsecond precision: what Qdrant's datetime index keeps, so range filters agree with returned values.</summary>
    private static DateTimeOffset Now() => new(DateTimeOffset.UtcNow.Ticks / 10 * 10, TimeSpan.Zero);

    public async Task<bool> DeleteDocumentAsync(string documentId, CancellationToken cancellationToken = default)
    {
        if (await GetDocumentAsync(documentId, cancellationToken) is null) return false;
        // One filter removes the record and every chunk version, including leftovers of interrupted writes.
        await _client.SendAsync(HttpMethod.Post, Points + "/delete?wait=true", new DeletePointsRequest(new Filter([P.Is(P.DocumentId, documentId)])),
            QdrantJsonContext.Default.DeletePointsRequest, cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(query.K);
        if (query.Mode == SearchMode.Dense && query.Vector.IsEmpty)
            throw new ArgumentException("Dense search needs SearchQuery.Vector (it is empty)", nameof(query));
        var filter = P.ForChunks(query.Filter);
        if (filter is null || await _collection.FindAsync(cancellationToken) is not { } schema) return [];

        float[]? dense = null;
        if (!query.Vector.IsEmpty && query.Mode != SearchMode.Bm25 && schema.DenseSize is not null)
        {
            if (query.Vector.Length != schema.DenseSize)
                throw new ArgumentException($"The query vector has {query.Vector.Length} dimensions but Qdrant collection '{_collection.Name}' stores {schema.DenseSize}", nameof(query));
            dense = query.Vector.ToArray();
        }
        var sparse = query.Mode == SearchMode.Dense ? null : _bm25.ForQuery(query.Text);
        if (sparse is { Indices.Length: 0 }) sparse = null;

        // Hybrid degrades to whichever side the query (and the collection) has.
        QueryRequest? request = (dense, sparse) switch
        {
            (null, null) => null,
            (not null, null) => Single(dense, DenseVectorName),
            (null, not null) => Single(sparse, SparseVectorName),
            _ => Fused(dense, sparse),
        };
        if (request is null) return [];

        using var activity = Activity.StartActivity("qdrant.search");
        activity?.SetTag("rag.search.mode", query.Mode.ToString());
        var result = await _client.SendAsync(HttpMethod.Post, Points + "/query", request,
            QdrantJsonContext.Default.QueryRequest, QdrantJsonContext.Default.QdrantResponseQueryResult, cancellationToken);
        return result?.Points.Where(p => p.Payload is not null).Select(ToSearchHit).ToArray() ?? [];

        QueryRequest Single(object vector, string name) =>
            new(Query: vector, Using: name, Filter: filter, Limit: query.K, WithPayload: SearchPayload);

        // Each prefetch carries the filter so that both candidate lists come from the allowed chunks only.
        QueryRequest Fused(float[] vector, SparseVector terms)
        {
            var candidates = query.K * _options.PrefetchMultiplier;
            return new QueryRequest(
                Query: new FusionQuery("rrf"),
                Prefetch: [new Prefetch(vector, DenseVectorName, candidates, filter), new Prefetch(terms, SparseVectorName, candidates, filter)],
                Limit: query.K,
                WithPayload: SearchPayload);
        }
    }

    public Task<bool> PingAsync(CancellationToken cancellationToken = default) => _client.IsReadyAsync(cancellationToken);

    public ValueTask DisposeAsync()
    {
        _collection.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<PointPayload?> GetDocumentPayloadAsync(string documentId, CancellationToken cancellationToken)
    {
        var points = await _client.SendAsync(HttpMethod.Post, Points, new RetrievePointsRequest([documentId]),
            QdrantJsonContext.Default.RetrievePointsRequest, QdrantJsonContext.Default.QdrantResponseListRetrievedPoint, cancellationToken);
        return points?.FirstOrDefault(p => p.Payload?.Kind == P.DocumentKind)?.Payload;
    }

    /// <summary>Every point matching <paramref name="filter"/>, following next_page_offset.</summary>
    private async Task<List<RetrievedPoint>> ScrollAsync(Filter filter, CancellationToken cancellationToken)
    {
        var points = new List<RetrievedPoint>();
        object? offset = null;
        do
        {
            var page = await _client.SendAsync(HttpMethod.Post, Points + "/scroll", new ScrollRequest(filter, ScrollPageSize, offset),
                QdrantJsonContext.Default.ScrollRequest, QdrantJsonContext.Default.QdrantResponseScrollResult, cancellationToken);
            if (page is null) break;
            points.AddRange(page.Points.Where(p => p.Payload is not null));
            offset = page.NextPageOffset is { ValueKind: not JsonValueKind.Null } next ? next : null;
        } while (offset is not null);
        return points;
    }

    private Task UpsertPointsAsync(IReadOnlyList<PointStruct> points, CancellationToken cancellationToken) =>
        _client.SendAsync(HttpMethod.Put, Points + "?wait=true", new UpsertPointsRequest(points), QdrantJsonContext.Default.UpsertPointsRequest, cancellationToken);

    /// <summary>Best-effort cleanup: its failure is logged, never hides the outcome of the write it follows.</summary>
    private async Task RemoveAsync(Filter filter, string what, string source)
    {
        try
        {
            await _client.SendAsync(HttpMethod.Post, Points + "/delete?wait=true", new DeletePointsRequest(filter),
                QdrantJsonContext.Default.DeletePointsRequest, CancellationToken.None);
        }
        catch (QdrantException e)
        {
            _logger.LogWarning(e, "Could not delete {What} of {Source}; the next write of this source removes them", what, source);
        }
    }

    private PointStruct ChunkPoint(string documentId, DocumentInput document, ChunkInput chunk, DateTimeOffset now)
    {
        var vectors = new Dictionary<string, object> { [SparseVectorName] = _bm25.ForDocument(chunk.Text) };
        if (!chunk.Embedding.IsEmpty) vectors[DenseVectorName] = chunk.Embedding.ToArray();
        return new PointStruct(PointIds.ForChunk(documentId, document.ContentHash, chunk.Ordinal), vectors, DocumentFields(P.ChunkKind, documentId, document, now) with
        {
            Ordinal = chunk.Ordinal,
            Text = chunk.Text,
            TokenCount = chunk.TokenCount,
            StartOffset = chunk.StartOffset,
            EndOffset = chunk.EndOffset,
            SourcePrefixes = P.PrefixesOf(document.Source),
        });
    }

    // Document records carry no vectors ("vector": {}), so no search ever returns them.
    private static PointStruct DocumentPoint(string documentId, DocumentInput document, DateTimeOffset createdAt, DateTimeOffset now) =>
        new(documentId, [], DocumentFields(P.DocumentKind, documentId, document, now) with
        {
            CreatedAt = createdAt,
            ChunkCount = document.Chunks.Count,
        });

    /// <summary>The payload fields that document records and chunk points share.</summary>
    private static PointPayload DocumentFields(string kind, string documentId, DocumentInput document, DateTimeOffset now) => new()
    {
        Kind = kind,
        DocumentId = documentId,
        Source = document.Source,
        Title = document.Title,
        Tags = document.Tags,
        ContentHash = document.ContentHash,
        UpdatedAt = now,
    };

    /// <summary>The stores' shared checks (<see cref="DocumentValidator"/>); returns the embedding size, null when no chunk has one.</summary>
    private static int? Validate(DocumentInput document) => DocumentValidator.Validate(document).FirstOrDefault(v => v is not null)?.Length;

    private static DocumentInfo ToDocumentInfo(string id, PointPayload p) =>
        new(id, p.Source, p.ContentHash, p.Title, p.Tags, p.ChunkCount ?? 0, p.CreatedAt ?? p.UpdatedAt, p.UpdatedAt);

    private static ChunkRecord ToChunkRecord(string id, PointPayload p) =>
        new(id, p.DocumentId, p.Ordinal ?? 0, p.Text ?? "", p.TokenCount ?? 0, p.StartOffset ?? 0, p.EndOffset ?? 0);

    private static SearchHit ToSearchHit(ScoredPoint point)
    {
        var p = point.Payload!;
        return new SearchHit(point.Id, p.DocumentId, p.Source, p.Title, p.Ordinal ?? 0, p.Text ?? "", p.TokenCount ?? 0, point.Score);
    }
}
