using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rag.Retrieval.Abstractions;
using P = Rag.Retrieval.Qdrant.QdrantPayload;

namespace Rag.Retrieval.Qdrant;

/// <summary>
/// <see cref="IDocumentStore"/> over Qdrant's REST API. One collection holds two kinds of points: chunks, with a
/// named dense vector ("dense") and a named BM25 sparse vector ("bm25"), and document records without vectors.
/// Qdrant has no transactions, so a write orders its steps so that readers never see a document without chunks:
/// new chunks (ids include the content hash) → the document record (the commit point) → deletion of the previous
/// version's chunks. A failure before the commit point removes the new chunks again.
/// </summary>
public sealed class QdrantDocumentStore : IDocumentStore
{
    private const string DenseVector = "dense";
    private const string SparseVector = "bm25";
    private const int ScrollPageSize = 256;

    private static readonly ActivitySource Activity = new("Rag.Retrieval.Qdrant");
    private static readonly PayloadSelector SearchPayload = new([P.SourcePrefixes]);

    private readonly QdrantRestClient _client;
    private readonly QdrantOptions _options;
    private readonly Bm25SparseVectorizer _bm25;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _collectionGate = new(1, 1);
    private bool _collectionReady;

    public QdrantDocumentStore(HttpClient httpClient, IOptions<QdrantOptions> options, ILogger<QdrantDocumentStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        _options = options.Value;
        _options.Validate();
        _client = new QdrantRestClient(httpClient, _options);
        _bm25 = new Bm25SparseVectorizer(_options.Bm25K1, _options.Bm25B, _options.Bm25AverageLength);
        _logger = logger ?? NullLogger<QdrantDocumentStore>.Instance;
    }

    private string Points => _client.CollectionPath + "/points";

    public async Task<UpsertOutcome> UpsertAsync(DocumentInput document, CancellationToken cancellationToken = default)
    {
        Validate(document);
        await EnsureCollectionAsync(cancellationToken);
        using var activity = Activity.StartActivity("qdrant.upsert");
        activity?.SetTag("rag.source", document.Source);

        var documentId = PointIds.ForDocument(document.Source);
        var existing = await GetDocumentPayloadAsync(documentId, cancellationToken);
        if (existing?.ContentHash == document.ContentHash) return UpsertOutcome.Unchanged;

        // Microsecond precision: what Qdrant's datetime index keeps, so range filters agree with returned values.
        var now = new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / 10 * 10, TimeSpan.Zero);
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
        if (!Guid.TryParse(documentId, out _)) return null; // every id this store hands out is a UUID
        await EnsureCollectionAsync(cancellationToken);
        var payload = await GetDocumentPayloadAsync(documentId, cancellationToken);
        return payload is null ? null : ToDocumentInfo(documentId, payload);
    }

    public async Task<IReadOnlyList<ChunkRecord>> GetChunksAsync(string documentId, CancellationToken cancellationToken = default)
    {
        var document = await GetDocumentAsync(documentId, cancellationToken);
        if (document is null) return [];
        // Only the committed version: a concurrent replacement may have added chunks of another hash.
        var filter = new Filter([P.Is(P.DocumentId, documentId), P.Is(P.Kind, P.ChunkKind), P.Is(P.ContentHash, document.ContentHash)]);
        var chunks = new List<ChunkRecord>();
        object? offset = null;
        do
        {
            var page = await _client.SendAsync(HttpMethod.Post, Points + "/scroll", new ScrollRequest(filter, ScrollPageSize, offset),
                QdrantJsonContext.Default.ScrollRequest, QdrantJsonContext.Default.QdrantResponseScrollResult, cancellationToken);
            if (page is null) break;
            chunks.AddRange(page.Points.Where(p => p.Payload is not null).Select(p => ToChunkRecord(p.Id, p.Payload!)));
            offset = page.NextPageOffset is { ValueKind: not System.Text.Json.JsonValueKind.Null } next ? next : null;
        } while (offset is not null);
        return chunks.OrderBy(c => c.Ordinal).ToArray();
    }

    public async Task<IReadOnlyList<DocumentInfo>> ListDocumentsAsync(int skip, int take, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        ArgumentOutOfRangeException.ThrowIfNegative(take);
        if (take == 0) return [];
        await EnsureCollectionAsync(cancellationToken);
        // A query without "query" lists points in id order, with offset paging.
        var request = new QueryRequest(Filter: new Filter([P.Is(P.Kind, P.DocumentKind)]), Limit: take, Offset: skip, WithPayload: true);
        var result = await _client.SendAsync(HttpMethod.Post, Points + "/query", request,
            QdrantJsonContext.Default.QueryRequest, QdrantJsonContext.Default.QdrantResponseQueryResult, cancellationToken);
        return result?.Points.Where(p => p.Payload is not null).Select(p => ToDocumentInfo(p.Id, p.Payload!)).ToArray() ?? [];
    }

    public async Task<bool> DeleteDocumentAsync(string documentId, CancellationToken cancellationToken = default)
    {
        var existed = await GetDocumentAsync(documentId, cancellationToken) is not null;
        if (!Guid.TryParse(documentId, out _)) return false;
        // One filter removes the record and every chunk version, including leftovers of interrupted writes.
        await _client.SendAsync(HttpMethod.Post, Points + "/delete?wait=true", new DeletePointsRequest(new Filter([P.Is(P.DocumentId, documentId)])),
            QdrantJsonContext.Default.DeletePointsRequest, cancellationToken);
        return existed;
    }

    public async Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(query.K);
        var filter = P.ForChunks(query.Filter);
        if (filter is null) return [];

        var dense = query.Vector.IsEmpty ? null : CheckDimensions(query.Vector).ToArray();
        var sparse = string.IsNullOrWhiteSpace(query.Text) ? null : _bm25.ForQuery(query.Text);
        if (sparse is { Indices.Length: 0 }) sparse = null;
        if (query.Mode == SearchMode.Dense && dense is null)
            throw new ArgumentException("Dense search needs SearchQuery.Vector (it is empty)", nameof(query));

        QueryRequest? request = query.Mode switch
        {
            SearchMode.Dense => Single(dense!, DenseVector),
            SearchMode.Bm25 => sparse is null ? null : Single(sparse, SparseVector),
            // Hybrid degrades to whichever side the query has.
            _ when dense is null => sparse is null ? null : Single(sparse, SparseVector),
            _ when sparse is null => Single(dense, DenseVector),
            _ => Fused(dense, sparse),
        };
        if (request is null) return [];

        await EnsureCollectionAsync(cancellationToken);
        using var activity = Activity.StartActivity("qdrant.search");
        activity?.SetTag("rag.search.mode", query.Mode.ToString());
        var result = await _client.SendAsync(HttpMethod.Post, Points + "/query", request,
            QdrantJsonContext.Default.QueryRequest, QdrantJsonContext.Default.QdrantResponseQueryResult, cancellationToken);
        return result?.Points.Where(p => p.Payload is not null).Select(p => ToSearchHit(p)).ToArray() ?? [];

        QueryRequest Single(object vector, string name) =>
            new(Query: vector, Using: name, Filter: filter, Limit: query.K, WithPayload: SearchPayload);

        // Each prefetch carries the filter so that both candidate lists come from the allowed chunks only.
        QueryRequest Fused(float[] vector, SparseVector terms)
        {
            var candidates = query.K * _options.PrefetchMultiplier;
            return new QueryRequest(
                Query: new FusionQuery("rrf"),
                Prefetch: [new Prefetch(vector, DenseVector, candidates, filter), new Prefetch(terms, SparseVector, candidates, filter)],
                Limit: query.K,
                WithPayload: SearchPayload);
        }
    }

    public Task<bool> PingAsync(CancellationToken cancellationToken = default) => _client.IsReadyAsync(cancellationToken);

    public ValueTask DisposeAsync()
    {
        _collectionGate.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Creates the collection and its payload indexes on first use; an existing one is used as it is.</summary>
    private async Task EnsureCollectionAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _collectionReady)) return;
        await _collectionGate.WaitAsync(cancellationToken);
        try
        {
            if (_collectionReady) return;
            var exists = await _client.GetAsync(_client.CollectionPath + "/exists", QdrantJsonContext.Default.QdrantResponseExistsResult, cancellationToken);
            if (exists is not { Exists: true })
            {
                _logger.LogInformation("Creating Qdrant collection {Collection} ({Size} dimensions, {Distance})", _options.Collection, _options.VectorSize, _options.Distance);
                var create = new CreateCollectionRequest(
                    new() { [DenseVector] = new DenseVectorParams(_options.VectorSize, _options.Distance) },
                    new() { [SparseVector] = new SparseVectorParams("idf") });
                await _client.SendAsync(HttpMethod.Put, _client.CollectionPath, create, QdrantJsonContext.Default.CreateCollectionRequest, cancellationToken);
                foreach (var (field, schema) in P.Indexes)
                    await _client.SendAsync(HttpMethod.Put, _client.CollectionPath + "/index?wait=true", new CreateFieldIndexRequest(field, schema),
                        QdrantJsonContext.Default.CreateFieldIndexRequest, cancellationToken);
            }
            Volatile.Write(ref _collectionReady, true);
        }
        finally
        {
            _collectionGate.Release();
        }
    }

    private async Task<PointPayload?> GetDocumentPayloadAsync(string documentId, CancellationToken cancellationToken)
    {
        var points = await _client.SendAsync(HttpMethod.Post, Points, new RetrievePointsRequest([documentId]),
            QdrantJsonContext.Default.RetrievePointsRequest, QdrantJsonContext.Default.QdrantResponseListRetrievedPoint, cancellationToken);
        return points?.FirstOrDefault(p => p.Payload?.Kind == P.DocumentKind)?.Payload;
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
        var vectors = new Dictionary<string, object> { [SparseVector] = _bm25.ForDocument(chunk.Text) };
        if (!chunk.Embedding.IsEmpty) vectors[DenseVector] = chunk.Embedding.ToArray();
        return new PointStruct(PointIds.ForChunk(documentId, document.ContentHash, chunk.Ordinal), vectors, new PointPayload
        {
            Kind = P.ChunkKind,
            DocumentId = documentId,
            Source = document.Source,
            Title = document.Title,
            Tags = document.Tags,
            ContentHash = document.ContentHash,
            UpdatedAt = now,
            Ordinal = chunk.Ordinal,
            Text = chunk.Text,
            TokenCount = chunk.TokenCount,
            StartOffset = chunk.StartOffset,
            EndOffset = chunk.EndOffset,
            SourcePrefixes = P.PrefixesOf(document.Source),
        });
    }

    private static PointStruct DocumentPoint(string documentId, DocumentInput document, DateTimeOffset createdAt, DateTimeOffset now) =>
        new(documentId, [], new PointPayload
        {
            Kind = P.DocumentKind,
            DocumentId = documentId,
            Source = document.Source,
            Title = document.Title,
            Tags = document.Tags,
            ContentHash = document.ContentHash,
            UpdatedAt = now,
            CreatedAt = createdAt,
            ChunkCount = document.Chunks.Count,
        });

    private void Validate(DocumentInput document)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (string.IsNullOrEmpty(document.Source))
            throw new ArgumentException("DocumentInput.Source is empty", nameof(document));
        if (string.IsNullOrEmpty(document.ContentHash))
            throw new ArgumentException($"DocumentInput.ContentHash of '{document.Source}' is empty", nameof(document));
        var duplicate = document.Chunks.GroupBy(c => c.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"Document '{document.Source}' has several chunks with ordinal {duplicate.Key}", nameof(document));
        foreach (var chunk in document.Chunks.Where(c => !c.Embedding.IsEmpty))
            CheckDimensions(chunk.Embedding, $"chunk {chunk.Ordinal} of '{document.Source}'");
    }

    private ReadOnlyMemory<float> CheckDimensions(ReadOnlyMemory<float> vector, string what = "the query vector")
    {
        if (vector.Length != _options.VectorSize)
            throw new ArgumentException($"Embedding of {what} has {vector.Length} dimensions but {QdrantOptions.SectionName}:VectorSize is {_options.VectorSize}");
        return vector;
    }

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
