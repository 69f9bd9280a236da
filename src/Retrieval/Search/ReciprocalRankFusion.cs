using Rag.Retrieval.Abstractions;

namespace Rag.Retrieval.Search;

/// <summary>Reciprocal rank fusion (Cormack et al. 2009): score(d) = Σ_lists 1 / (rrfK + rank_list(d)), rank from 1.</summary>
public static class ReciprocalRankFusion
{
    public static IReadOnlyList<SearchHit> Fuse(IEnumerable<IReadOnlyList<SearchHit>> lists, int k, double rrfK)
    {
        ArgumentNullException.ThrowIfNull(lists);
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be >= 0.");
        if (!(rrfK >= 0)) throw new ArgumentOutOfRangeException(nameof(rrfK), rrfK, "rrfK must be >= 0.");

        // Insertion order breaks ties, so the first list wins among equal fused scores.
        var fused = new Dictionary<string, (SearchHit Hit, double Score, int FirstSeen)>();
        foreach (var list in lists)
        {
            for (var i = 0; i < list.Count; i++)
            {
                var hit = list[i];
                var contribution = 1.0 / (rrfK + i + 1);
                fused[hit.ChunkId] = fused.TryGetValue(hit.ChunkId, out var seen)
                    ? (seen.Hit, seen.Score + contribution, seen.FirstSeen)
                    : (hit, contribution, fused.Count);
            }
        }
        return fused.Values
            .OrderByDescending(e => e.Score).ThenBy(e => e.FirstSeen)
            .Take(k)
            .Select(e => e.Hit with { Score = e.Score })
            .ToList();
    }
}
