using Rag.Retrieval.Abstractions;

namespace Rag.Retrieval.Search;

/// <summary>Reciprocal rank fusion (Cormack et al. 2009): score(d) = Σ_lists 1 / (rrfK + rank_list(d)), rank from 1.</summary>
public static class ReciprocalRankFusion
{
    /// <returns>The fused top k hits (each the first-seen copy), Score replaced by the fused score.</returns>
    public static IReadOnlyList<SearchHit> Fuse(IEnumerable<IReadOnlyList<SearchHit>> lists, int k, double rrfK)
    {
        ArgumentNullException.ThrowIfNull(lists);
        var materialised = lists.ToList();
        var firstSeen = new Dictionary<string, SearchHit>(StringComparer.Ordinal);
        foreach (var hit in materialised.SelectMany(l => l)) firstSeen.TryAdd(hit.ChunkId, hit);
        return FuseKeys(materialised.Select(l => l.Select(h => h.ChunkId).ToList()), k, rrfK)
            .Select(f => firstSeen[f.Key] with { Score = f.Score })
            .ToList();
    }

    /// <summary>Fuses ranked lists of keys (best first); ties keep first-seen order, so the first list wins them.</summary>
    public static IReadOnlyList<(TKey Key, double Score)> FuseKeys<TKey>(IEnumerable<IReadOnlyList<TKey>> rankedLists, int k, double rrfK)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(rankedLists);
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be >= 0.");
        if (!(rrfK >= 0)) throw new ArgumentOutOfRangeException(nameof(rrfK), rrfK, "rrfK must be >= 0.");

        var fused = new Dictionary<TKey, (double Score, int FirstSeen)>();
        foreach (var list in rankedLists)
        {
            for (var i = 0; i < list.Count; i++)
            {
                var contribution = 1.0 / (rrfK + i + 1);
                fused[list[i]] = fused.TryGetValue(list[i], out var seen)
                    ? (seen.Score + contribution, seen.FirstSeen)
                    : (contribution, fused.Count);
            }
        }
        return fused
            .OrderByDescending(e => e.Value.Score).ThenBy(e => e.Value.FirstSeen)
            .Take(k)
            .Select(e => (e.Key, e.Value.Score))
            .ToList();
    }
}
