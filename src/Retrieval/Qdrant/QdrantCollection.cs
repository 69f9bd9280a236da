using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Rag.Retrieval.Qdrant;

/// <summary>
/// The store's collection: a named dense vector "dense", a named sparse vector "bm25" with <c>modifier: idf</c>,
/// and payload indexes. Reads never create it (an absent collection is an empty store); the first write does,
/// with <see cref="QdrantOptions.VectorSize"/> dense dimensions, or, when that is 0, the dimensions of the first
/// document's embeddings (sparse vectors only when it has none). An existing collection is checked, not changed.
/// </summary>
internal sealed class QdrantCollection(QdrantRestClient client, QdrantOptions options, ILogger logger) : IDisposable
{
    public const string DenseVectorName = "dense";
    public const string SparseVectorName = "bm25";

    /// <param name="DenseSize">Dimensions of the dense vector; null when the collection holds sparse vectors only.</param>
    public sealed record State(int? DenseSize);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private State? _known; // set once the collection is seen to exist; its schema does not change afterwards

    public string Name => options.Collection;

    /// <summary>The collection's schema, or null while it does not exist.</summary>
    public async Task<State?> FindAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _known) is { } known) return known;
        var state = await ReadAsync(cancellationToken);
        if (state is not null) Volatile.Write(ref _known, state);
        return state;
    }

    /// <summary>The collection's schema, creating the collection first when it is missing.</summary>
    public async Task<State> EnsureAsync(int? firstEmbeddingSize, CancellationToken cancellationToken)
    {
        if (await FindAsync(cancellationToken) is { } existing) return existing;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (await FindAsync(cancellationToken) is { } raced) return raced;
            var size = options.VectorSize > 0 ? options.VectorSize : firstEmbeddingSize;
            try
            {
                await CreateAsync(size, cancellationToken);
            }
            catch (QdrantException) when (!cancellationToken.IsCancellationRequested)
            {
                // Another writer may have created it first; then theirs is used (checked like any existing collection).
                if (await FindAsync(cancellationToken) is null) throw;
            }
            return await FindAsync(cancellationToken)
                ?? throw new QdrantException($"Qdrant collection '{Name}' was created but cannot be read back");
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task CreateAsync(int? denseSize, CancellationToken cancellationToken)
    {
        logger.LogInformation("Creating Qdrant collection {Collection} (dense: {Size} dimensions, {Distance})",
            Name, denseSize?.ToString() ?? "none", options.Distance);
        var create = new CreateCollectionRequest(
            denseSize is int size ? new() { [DenseVectorName] = new DenseVectorParams(size, options.Distance) } : null,
            new() { [SparseVectorName] = new SparseVectorParams("idf") });
        await client.SendAsync(HttpMethod.Put, client.CollectionPath, create, QdrantJsonContext.Default.CreateCollectionRequest, cancellationToken);
        foreach (var (field, schema) in QdrantPayload.Indexes)
            await client.SendAsync(HttpMethod.Put, client.CollectionPath + "/index?wait=true", new CreateFieldIndexRequest(field, schema),
                QdrantJsonContext.Default.CreateFieldIndexRequest, cancellationToken);
    }

    private async Task<State?> ReadAsync(CancellationToken cancellationToken)
    {
        CollectionInfo? info;
        try
        {
            info = await client.GetAsync(client.CollectionPath, QdrantJsonContext.Default.QdrantResponseCollectionInfo, cancellationToken);
        }
        catch (QdrantException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        var parameters = info?.Config?.Params;
        if (parameters?.SparseVectors is not { ValueKind: JsonValueKind.Object } sparse || !sparse.TryGetProperty(SparseVectorName, out _))
            throw new QdrantException($"Qdrant collection '{Name}' has no sparse vector '{SparseVectorName}'; it was not created by this store (use another {QdrantOptions.SectionName}:Collection)");

        int? denseSize = null;
        if (parameters.Vectors is { ValueKind: JsonValueKind.Object } vectors)
        {
            if (vectors.TryGetProperty("size", out _))
                throw new QdrantException($"Qdrant collection '{Name}' has an unnamed dense vector; this store needs the named vector '{DenseVectorName}'");
            if (vectors.TryGetProperty(DenseVectorName, out var dense))
                denseSize = dense.GetProperty("size").GetInt32();
        }
        if (options.VectorSize > 0 && denseSize != options.VectorSize)
            throw new QdrantException($"Qdrant collection '{Name}' stores {denseSize?.ToString() ?? "no"} dense dimensions but {QdrantOptions.SectionName}:VectorSize is {options.VectorSize}");
        return new State(denseSize);
    }

    public void Dispose() => _gate.Dispose();
}
