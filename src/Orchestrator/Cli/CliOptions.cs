using System.CommandLine;
using Rag.Orchestrator.Answering;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Cli;

/// <summary>Options shared by search and ask, parsed the same way in both.</summary>
internal static class CliOptions
{
    public static Option<int?> K() => new("-k", "--k") { Description = "Passages to retrieve (default Ask:DefaultK = 64, at most Ask:MaxK = 1024)." };

    public static Option<string[]> Tags() => new("--tag") { Description = "Only passages of documents with this tag (repeatable).", AllowMultipleArgumentsPerToken = true };

    public static Option<string?> SourcePrefix() => new("--source-prefix") { Description = "Only passages whose document source starts with this path or URI." };

    public static Option<string?> Mode() => new("--mode") { Description = "bm25, dense or hybrid (default: hybrid when an embedding model is configured, else bm25)." };

    /// <summary>A comma-separated list of positive integers, e.g. --passages 8,16,32.</summary>
    public static List<int> PositiveIntList(string text, string option)
    {
        var values = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v) || v < 1)
                throw new RagInputException($"{option} must be a comma-separated list of positive integers; got '{part}'.");
            values.Add(v);
        }
        return values.Count > 0 ? values : throw new RagInputException($"{option} is empty.");
    }

    public static SearchFilter? Filter(string[]? tags, string? sourcePrefix)
    {
        bool hasTags = tags is { Length: > 0 };
        if (!hasTags && sourcePrefix is null) return null;
        return new SearchFilter(Tags: hasTags ? tags : null, SourcePrefix: sourcePrefix is null ? null : SourcePrefixOf(sourcePrefix));
    }

    /// <summary>
    /// Files are stored under their full path, so a path prefix is made absolute; a URI (https://..., upload://...)
    /// names documents stored under that URI and is kept as given, as the API does.
    /// </summary>
    public static string SourcePrefixOf(string prefix) =>
        Uri.TryCreate(prefix, UriKind.Absolute, out var uri) && !uri.IsFile ? prefix : Path.GetFullPath(prefix);

    public static SearchMode? ParseMode(string? mode) => mode?.ToLowerInvariant() switch
    {
        null => null,
        "bm25" => SearchMode.Bm25,
        "dense" => SearchMode.Dense,
        "hybrid" => SearchMode.Hybrid,
        _ => throw new RagInputException($"Unknown --mode '{mode}'; expected bm25, dense or hybrid."),
    };

    public static string Describe(SearchMode mode, bool hasEmbedder) => mode switch
    {
        SearchMode.Bm25 when !hasEmbedder => "bm25 (no embedding model configured; set Embeddings:ModelDirectory for hybrid search)",
        SearchMode.Bm25 => "bm25",
        SearchMode.Dense => "dense",
        _ => "hybrid (bm25 + dense, reciprocal rank fusion)",
    };
}
