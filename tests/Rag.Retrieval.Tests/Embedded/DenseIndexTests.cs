using Rag.Retrieval.Embedded;

namespace Rag.Retrieval.Tests.Embedded;

public sealed class DenseIndexTests
{
    private static float[] Normalised(float[] v)
    {
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }

    [Fact]
    public void Top_k_over_many_blocks_with_replacements_and_removals_equals_brute_force()
    {
        const int dimension = 8, documents = 2500, perDocument = 4, k = 7;
        var random = new Random(7);
        float[] Random() => Normalised(Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());

        using var index = new DenseIndex();
        var truth = new Dictionary<string, (string Document, long Key, float[] Vector)>();
        void Set(string document)
        {
            foreach (var stale in truth.Where(e => e.Value.Document == document).Select(e => e.Key).ToList()) truth.Remove(stale);
            var rows = Enumerable.Range(0, perDocument).Select(o => new DenseRow($"{document}#{o}#{random.Next()}", random.NextInt64(), Random())).ToList();
            foreach (var (id, key, v) in rows) truth[id] = (document, key, v);
            index.SetDocument(document, rows);
        }

        for (var d = 0; d < documents; d++) Set($"d{d}");            // 10,000 rows: three scan blocks
        for (var d = 0; d < documents; d += 3) Set($"d{d}");          // replace a third
        for (var d = 1; d < documents; d += 5)                        // remove a fifth (swap-remove moves rows)
        {
            index.RemoveDocument($"d{d}");
            foreach (var stale in truth.Where(e => e.Value.Document == $"d{d}").Select(e => e.Key).ToList()) truth.Remove(stale);
        }
        Assert.Equal(truth.Count, index.Count);

        var allowed = new HashSet<string>(Enumerable.Range(0, documents).Where(d => d % 2 == 0).Select(d => $"d{d}"));
        for (var q = 0; q < 3; q++)
        {
            var query = Random();
            float Dot(float[] v) => v.Zip(query).Sum(p => p.First * p.Second);
            var best = truth.OrderByDescending(e => Dot(e.Value.Vector)).Take(k).ToList();
            var matches = index.TopK(query, k);
            Assert.Equal(best.Select(e => (e.Key, e.Value.Key, e.Value.Document)), matches.Select(m => (m.ChunkId, m.Key, m.DocumentId)));
            Assert.Equal(best.Select(e => Dot(e.Value.Vector)), matches.Select(m => m.Score), (a, b) => Math.Abs(a - b) < 1e-5);
            Assert.Equal(
                truth.Where(e => allowed.Contains(e.Value.Document)).OrderByDescending(e => Dot(e.Value.Vector)).Take(k).Select(e => e.Key),
                index.TopK(query, k, allowed).Select(m => m.ChunkId));
        }
        var some = truth.First();
        Assert.Equal(some.Value.Vector, index.VectorOf(some.Key));
    }

    [Fact]
    public void Dimension_mismatch_names_both_dimensions()
    {
        using var index = new DenseIndex();
        index.SetDocument("a", [new DenseRow("a#0", 1, Normalised([1, 2, 3]))]);
        var error = Assert.Throws<ArgumentException>(() => index.TopK(new float[4], 1));
        Assert.Contains("4", error.Message);
        Assert.Contains("3", error.Message);
        Assert.Throws<ArgumentException>(() => index.SetDocument("b", [new DenseRow("b#0", 2, new float[5])]));
        Assert.Contains("5", Assert.Throws<ArgumentException>(() => index.Reserve(10, 5)).Message);
        index.Reserve(100, 3);
        Assert.Equal(1, index.Count);
        Assert.Equal("a#0", Assert.Single(index.TopK(Normalised([1, 0, 0]), int.MaxValue)).ChunkId);

        index.RemoveDocument("a");
        Assert.Equal(0, index.Dimension);
        Assert.Empty(index.TopK(new float[4], 1));
    }

    [Fact]
    public void Equal_scores_rank_the_older_row_first_across_scan_workers()
    {
        using var index = new DenseIndex();
        var same = Normalised([1, 1, 0, 0]);
        for (var d = 0; d < 1000; d++) // 5000 identical rows span three scan blocks
            index.SetDocument($"d{d}", Enumerable.Range(0, 5).Select(o => new DenseRow($"d{d}#{o}", d * 5 + o, same)).ToList());

        Assert.Equal([0L, 1, 2, 3], index.TopK(same, 4).Select(m => m.Key));
        Assert.Equal([2500L, 2501], index.TopK(same, 2, new HashSet<string> { "d700", "d500" }).Select(m => m.Key));
    }

    [Fact]
    public void A_rejected_replacement_keeps_the_old_rows_and_the_only_document_may_change_dimension()
    {
        using var index = new DenseIndex();
        index.SetDocument("a", [new DenseRow("a#0", 1, Normalised([1, 0, 0]))]);
        index.SetDocument("b", [new DenseRow("b#0", 2, Normalised([0, 1, 0]))]);

        Assert.Throws<ArgumentException>(() => index.SetDocument("a", [new DenseRow("a#1", 3, Normalised([1, 0]))]));
        Assert.Equal(["a#0", "b#0"], index.TopK(Normalised([1, 0.5f, 0]), 5).Select(m => m.ChunkId));

        index.RemoveDocument("b");
        index.SetDocument("a", [new DenseRow("a#1", 3, Normalised([1, 1]))]);
        Assert.Equal(2, index.Dimension);
        Assert.Equal("a#1", Assert.Single(index.TopK(Normalised([1, 0]), 5)).ChunkId);
    }
}
