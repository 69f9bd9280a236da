using System.Numerics.Tensors;
using Rag.Retrieval.Abstractions;

namespace Rag.Retrieval.Search;

/// <summary>
/// Drops hits that repeat a better-ranked hit: the same chunk text (by hash), or, when vectors are known,
/// a cosine similarity at or above the threshold. Keeps the ranking order of the survivors.
/// </summary>
public static class NearDuplicates
{
    public const double DefaultCosineThreshold = 0.98;

    /// <param name="normalisedVectorOf">The L2-normalised vector of a chunk id, or null when unknown.</param>
    /// <param name="limit">Stop once this many hits are kept (the vector comparison is quadratic in the kept count).</param>
    public static IReadOnlyList<SearchHit> Collapse(
        IReadOnlyList<SearchHit> rankedHits,
        Func<string, float[]?>? normalisedVectorOf = null,
        double cosineThreshold = DefaultCosineThreshold,
        int limit = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var seenHashes = new HashSet<string>(StringComparer.Ordinal);
        var keptVectors = new List<float[]>();
        var kept = new List<SearchHit>(rankedHits.Count);
        foreach (var hit in rankedHits)
        {
            if (kept.Count == limit) break;
            if (!seenHashes.Add(ChunkTextHash.Compute(hit.Text))) continue;
            var vector = normalisedVectorOf?.Invoke(hit.ChunkId);
            if (vector is not null)
            {
                if (keptVectors.Any(v => v.Length == vector.Length && TensorPrimitives.Dot(v, vector) >= cosineThreshold)) continue;
                keptVectors.Add(vector);
            }
            kept.Add(hit);
        }
        return kept;
    }
}
