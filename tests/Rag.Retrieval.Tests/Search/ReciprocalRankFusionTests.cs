using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Search;

namespace Rag.Retrieval.Tests.Search;

public sealed class ReciprocalRankFusionTests
{
    private static SearchHit Hit(string id, double score = 0) => new(id, "doc-" + id, id + ".txt", null, 0, "text " + id, 2, score);

    [Fact]
    public void Fused_score_is_the_sum_of_reciprocal_ranks()
    {
        IReadOnlyList<SearchHit> keyword = [Hit("a", 9), Hit("b", 8), Hit("c", 7)];
        IReadOnlyList<SearchHit> dense = [Hit("c", 0.9), Hit("d", 0.8), Hit("a", 0.7)];

        var fused = ReciprocalRankFusion.Fuse([keyword, dense], 10, rrfK: 10);

        // a: 1/11 + 1/13, c: 1/13 + 1/11, b: 1/12, d: 1/12 — ties keep first-seen order.
        Assert.Equal(["a", "c", "b", "d"], fused.Select(h => h.ChunkId));
        Assert.Equal(1.0 / 11 + 1.0 / 13, fused[0].Score, 12);
        Assert.Equal(1.0 / 13 + 1.0 / 11, fused[1].Score, 12);
        Assert.Equal(1.0 / 12, fused[2].Score, 12);
        Assert.Equal(1.0 / 12, fused[3].Score, 12);
        Assert.Equal("a.txt", fused[0].Source);
    }

    [Fact]
    public void Takes_k_and_handles_empty_lists()
    {
        IReadOnlyList<SearchHit> one = [Hit("x"), Hit("y"), Hit("z")];
        var fused = ReciprocalRankFusion.Fuse([one, []], 2, 60);
        Assert.Equal(["x", "y"], fused.Select(h => h.ChunkId));
        Assert.Equal(1.0 / 61, fused[0].Score, 12);
        Assert.Empty(ReciprocalRankFusion.Fuse([], 5, 60));
    }

    [Fact]
    public void Near_duplicates_collapse_by_text_and_by_cosine()
    {
        IReadOnlyList<SearchHit> hits = [Hit("a"), Hit("b") with { Text = "text  a" }, Hit("c"), Hit("d")];
        var vectors = new Dictionary<string, float[]>
        {
            ["a"] = [1, 0], ["b"] = [0, 1], ["c"] = [0.995f, 0.0998f], ["d"] = [0, 1],
        };
        var kept = NearDuplicates.Collapse(hits, id => vectors.GetValueOrDefault(id));
        // b repeats a's text; c is within cosine 0.98 of a; d is orthogonal to a.
        Assert.Equal(["a", "d"], kept.Select(h => h.ChunkId));
        Assert.Equal(["a", "c", "d"], NearDuplicates.Collapse(hits).Select(h => h.ChunkId));
        Assert.Equal(["a", "c"], NearDuplicates.Collapse(hits, limit: 2).Select(h => h.ChunkId));
    }

    [Theory]
    [InlineData("C# \"x\" AND -y NEAR(", "\"C\" OR \"x\" OR \"AND\" OR \"y\" OR \"NEAR\"")]
    [InlineData("  ", null)]
    [InlineData("-- ** ()", null)]
    [InlineData("crème brûlée", "\"crème\" OR \"brûlée\"")]
    [InlineData("cre\u0300me", "\"cre\u0300me\"")]
    public void Fts5_query_quotes_words_and_drops_operators(string text, string? expected) =>
        Assert.Equal(expected, Fts5Query.FromUserText(text));
}
