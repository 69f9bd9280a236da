using Rag.Retrieval.Abstractions;

namespace Rag.Retrieval.Search;

/// <summary>The passages of one document chosen for a prompt, in reading order (by ordinal).</summary>
public sealed record PackedDocument(string DocumentId, string Source, string? Title, IReadOnlyList<SearchHit> Passages);

/// <param name="Documents">Ordered by each document's best-ranked kept passage.</param>
/// <param name="TokenCount">Tokens used: passage tokens plus the per-passage overhead.</param>
public sealed record PackedPassages(IReadOnlyList<PackedDocument> Documents, int TokenCount)
{
    public IEnumerable<SearchHit> Passages => Documents.SelectMany(d => d.Passages);
}

/// <summary>
/// Fills a prompt's token budget with ranked passages: walks the hits best first and keeps each one that still
/// fits (a passage too long for what is left is skipped, so a shorter lower-ranked one may still fit), up to a given
/// number of passages, then groups the kept passages per document so neighbouring text of one source reads together.
/// </summary>
public static class PassagePacker
{
    /// <param name="tokensPerPassage">Prompt tokens each passage costs beyond its text (its citation header).</param>
    public static PackedPassages Pack(IReadOnlyList<SearchHit> rankedHits, int tokenBudget, int tokensPerPassage = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokensPerPassage);
        return Pack(rankedHits, tokenBudget, hit => hit.TokenCount + tokensPerPassage);
    }

    /// <param name="cost">Prompt tokens a passage costs as it will appear in the prompt (e.g. counted by the generator's tokenizer, header included).</param>
    /// <param name="maxPassages">The most passages kept: the best-ranked that fit.</param>
    public static PackedPassages Pack(IReadOnlyList<SearchHit> rankedHits, int tokenBudget, Func<SearchHit, int> cost, int maxPassages = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(rankedHits);
        ArgumentNullException.ThrowIfNull(cost);
        ArgumentOutOfRangeException.ThrowIfNegative(tokenBudget);
        ArgumentOutOfRangeException.ThrowIfNegative(maxPassages);

        var kept = new List<SearchHit>();
        var keptIds = new HashSet<string>(StringComparer.Ordinal);
        var used = 0;
        foreach (var hit in rankedHits)
        {
            if (kept.Count == maxPassages) break;
            long tokens = cost(hit);
            if (used + tokens > tokenBudget || !keptIds.Add(hit.ChunkId)) continue;
            kept.Add(hit);
            used += (int)tokens;
        }

        // GroupBy keeps first-appearance order, which is the rank order of each document's best passage.
        var documents = kept
            .GroupBy(h => h.DocumentId, StringComparer.Ordinal)
            .Select(g => new PackedDocument(g.Key, g.First().Source, g.First().Title, g.OrderBy(h => h.Ordinal).ToList()))
            .ToList();
        return new PackedPassages(documents, used);
    }
}
