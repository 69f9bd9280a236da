using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rag.Retrieval.Qdrant;

// Wire shapes of the Qdrant REST API used by QdrantDocumentStore (snake_case, nulls omitted).
// Members typed object carry Qdrant's untagged unions (a dense vector, a sparse vector or a fusion as "query");
// they serialize by runtime type, which must therefore be listed in QdrantJsonContext.

internal sealed record CreateCollectionRequest(
    Dictionary<string, DenseVectorParams>? Vectors,
    Dictionary<string, SparseVectorParams> SparseVectors);

internal sealed record DenseVectorParams(int Size, string Distance);

internal sealed record SparseVectorParams(string Modifier);

internal sealed record CreateFieldIndexRequest(string FieldName, string FieldSchema);

internal sealed record SparseVector(uint[] Indices, float[] Values);

internal sealed record PointStruct(string Id, Dictionary<string, object> Vector, PointPayload Payload);

internal sealed record UpsertPointsRequest(IReadOnlyList<PointStruct> Points);

internal sealed record RetrievePointsRequest(IReadOnlyList<string> Ids, bool WithPayload = true, bool WithVector = false);

internal sealed record DeletePointsRequest(Filter Filter);

/// <summary>Sets these payload fields on every point the filter matches, keeping the other fields and the vectors.</summary>
internal sealed record SetPayloadRequest(TagsPayload Payload, Filter Filter);

internal sealed record TagsPayload(IReadOnlyList<string> Tags, DateTimeOffset UpdatedAt);

internal sealed record Filter(IReadOnlyList<FieldCondition>? Must = null, IReadOnlyList<FieldCondition>? MustNot = null);

internal sealed record FieldCondition(string Key, MatchCondition? Match = null, DateTimeRange? Range = null);

internal sealed record MatchCondition(string? Value = null, IReadOnlyList<string>? Any = null);

/// <summary>RFC 3339 bounds, as Qdrant's datetime index expects.</summary>
internal sealed record DateTimeRange(string? Gte = null, string? Lte = null);

internal sealed record FusionQuery(string Fusion);

internal sealed record Prefetch(object Query, string Using, int Limit, Filter? Filter);

internal sealed record PayloadSelector(IReadOnlyList<string> Exclude);

internal sealed record QueryRequest(
    object? Query = null,
    string? Using = null,
    IReadOnlyList<Prefetch>? Prefetch = null,
    Filter? Filter = null,
    int Limit = 10,
    int? Offset = null,
    object? WithPayload = null);

internal sealed record ScrollRequest(Filter Filter, int Limit, object? Offset = null, bool WithPayload = true, bool WithVector = false);

/// <summary>Payload of both point kinds: chunks (searchable) and document records (no vectors).</summary>
internal sealed record PointPayload
{
    public string Kind { get; init; } = "";
    public string DocumentId { get; init; } = "";
    public string Source { get; init; } = "";
    public string? Title { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public string ContentHash { get; init; } = "";
    public DateTimeOffset UpdatedAt { get; init; }
    // Document records only.
    public DateTimeOffset? CreatedAt { get; init; }
    public int? ChunkCount { get; init; }
    // Chunks only.
    public int? Ordinal { get; init; }
    public string? Text { get; init; }
    public int? TokenCount { get; init; }
    public int? StartOffset { get; init; }
    public int? EndOffset { get; init; }
    public IReadOnlyList<string>? SourcePrefixes { get; init; }
}

internal sealed record QdrantResponse<T>(T? Result);

internal sealed record CollectionInfo(CollectionConfig? Config);

internal sealed record CollectionConfig(CollectionParams? Params);

/// <summary>Kept as raw JSON: "vectors" is either one unnamed vector or a map of named ones.</summary>
internal sealed record CollectionParams(JsonElement? Vectors, JsonElement? SparseVectors);

internal sealed record ScoredPoint(string Id, double Score, PointPayload? Payload);

internal sealed record RetrievedPoint(string Id, PointPayload? Payload);

internal sealed record QueryResult(IReadOnlyList<ScoredPoint> Points);

internal sealed record ScrollResult(IReadOnlyList<RetrievedPoint> Points, JsonElement? NextPageOffset);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateCollectionRequest))]
[JsonSerializable(typeof(CreateFieldIndexRequest))]
[JsonSerializable(typeof(UpsertPointsRequest))]
[JsonSerializable(typeof(RetrievePointsRequest))]
[JsonSerializable(typeof(DeletePointsRequest))]
[JsonSerializable(typeof(SetPayloadRequest))]
[JsonSerializable(typeof(QueryRequest))]
[JsonSerializable(typeof(ScrollRequest))]
[JsonSerializable(typeof(float[]))]
[JsonSerializable(typeof(SparseVector))]
[JsonSerializable(typeof(FusionQuery))]
[JsonSerializable(typeof(PayloadSelector))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(QdrantResponse<CollectionInfo>))]
[JsonSerializable(typeof(QdrantResponse<QueryResult>))]
[JsonSerializable(typeof(QdrantResponse<ScrollResult>))]
[JsonSerializable(typeof(QdrantResponse<List<RetrievedPoint>>))]
internal sealed partial class QdrantJsonContext : JsonSerializerContext;
