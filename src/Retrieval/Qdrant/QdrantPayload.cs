using System.Globalization;
using Rag.Retrieval.Abstractions;

namespace Rag.Retrieval.Qdrant;

/// <summary>Payload field names, point kinds and the translation of <see cref="SearchFilter"/> into Qdrant filters.</summary>
internal static class QdrantPayload
{
    public const string Kind = "kind";
    public const string DocumentId = "document_id";
    public const string Source = "source";
    public const string Tags = "tags";
    public const string ContentHash = "content_hash";
    public const string UpdatedAt = "updated_at";
    public const string SourcePrefixes = "source_prefixes";

    public const string ChunkKind = "chunk";
    public const string DocumentKind = "document";

    /// <summary>Longest source prefix a filter may use; see <see cref="PrefixesOf"/>.</summary>
    public const int MaxSourcePrefixLength = 256;

    /// <summary>Fields with a payload index: keyword for exact/any matches, datetime for ranges.</summary>
    public static readonly IReadOnlyList<(string Field, string Schema)> Indexes =
    [
        (Kind, "keyword"), (DocumentId, "keyword"), (Source, "keyword"), (Tags, "keyword"),
        (SourcePrefixes, "keyword"), (UpdatedAt, "datetime"),
    ];

    /// <summary>
    /// Qdrant has no prefix match on keywords (its <c>text</c> match is word-based, so "docs/a" would also match
    /// "x/docs/a"). Each chunk therefore carries every prefix of its source, up to <see cref="MaxSourcePrefixLength"/>
    /// characters, in an indexed keyword array, and a source-prefix filter is an exact match on that array.
    /// </summary>
    public static IReadOnlyList<string> PrefixesOf(string source) =>
        Enumerable.Range(1, Math.Min(source.Length, MaxSourcePrefixLength)).Select(n => source[..n]).ToArray();

    public static FieldCondition Is(string key, string value) => new(key, new MatchCondition(Value: value));

    /// <summary>Chunks only, AND every set field of <paramref name="filter"/>; null when the filter can match nothing.</summary>
    public static Filter? ForChunks(SearchFilter? filter)
    {
        var must = new List<FieldCondition> { Is(Kind, ChunkKind) };
        if (filter is null) return new Filter(must);

        if (filter.DocumentIds is { } ids)
        {
            if (ids.Count == 0) return null;
            must.Add(new FieldCondition(DocumentId, new MatchCondition(Any: ids)));
        }
        if (filter.Tags is { } tags)
        {
            if (tags.Count == 0) return null;
            // A chunk matches when it has any of the tags.
            must.Add(new FieldCondition(Tags, new MatchCondition(Any: tags)));
        }
        if (filter.SourcePrefix is { Length: > 0 } prefix)
        {
            if (prefix.Length > MaxSourcePrefixLength)
                throw new ArgumentException($"Source prefix filter is {prefix.Length} characters long; the Qdrant store indexes at most {MaxSourcePrefixLength}", nameof(filter));
            must.Add(Is(SourcePrefixes, prefix));
        }
        if (filter.UpdatedFrom is not null || filter.UpdatedTo is not null)
            must.Add(new FieldCondition(UpdatedAt, Range: new DateTimeRange(
                Microseconds(filter.UpdatedFrom, roundUp: true), Microseconds(filter.UpdatedTo, roundUp: false))));
        return new Filter(must);
    }

    /// <summary>
    /// RFC 3339 in whole microseconds, the precision Qdrant stores: a lower bound rounds up and an upper bound
    /// rounds down, so that stored times compare exactly as they would against the unrounded bound.
    /// </summary>
    private static string? Microseconds(DateTimeOffset? t, bool roundUp)
    {
        if (t is null) return null;
        var ticks = t.Value.UtcTicks;
        var whole = ticks / 10 * 10;
        if (roundUp && whole != ticks) whole += 10;
        return new DateTime(whole, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
    }
}
