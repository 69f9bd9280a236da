using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Search;

namespace Rag.Retrieval.Tests.Search;

public sealed class PassagePackerTests
{
    private static SearchHit Hit(string document, int ordinal, int tokens) =>
        new($"{document}#{ordinal}", document, document + ".md", "Title " + document, ordinal, $"text of {document} {ordinal}", tokens, 0);

    [Fact]
    public void Keeps_passages_in_rank_order_while_they_fit_and_skips_the_ones_that_do_not()
    {
        SearchHit[] ranked = [Hit("a", 3, 50), Hit("b", 0, 40), Hit("a", 1, 30), Hit("c", 5, 200), Hit("c", 0, 10)];

        var packed = PassagePacker.Pack(ranked, tokenBudget: 100);

        // a#3 + b#0 = 90; a#1 (30) and c#5 (200) overflow; c#0 (10) still fits.
        Assert.Equal(["a#3", "b#0", "c#0"], packed.Passages.Select(h => h.ChunkId));
        Assert.Equal(100, packed.TokenCount);
    }

    [Fact]
    public void A_cost_function_replaces_the_stored_token_counts()
    {
        SearchHit[] ranked = [Hit("a", 0, 1), Hit("b", 0, 1), Hit("c", 0, 1)];

        // Counted another way (say, by the generator's tokenizer, header included) each costs 40, not 1.
        var packed = PassagePacker.Pack(ranked, tokenBudget: 100, hit => 40);

        Assert.Equal(["a#0", "b#0"], packed.Passages.Select(h => h.ChunkId));
        Assert.Equal(80, packed.TokenCount);
    }

    [Fact]
    public void A_passage_limit_keeps_the_best_ranked_that_fit_and_zero_keeps_none()
    {
        SearchHit[] ranked = [Hit("a", 0, 50), Hit("b", 0, 200), Hit("c", 0, 30), Hit("d", 0, 10), Hit("e", 0, 10)];

        // b#0 does not fit, so the two kept are a#0 and c#0; d#0 and e#0 would still fit but are past the limit.
        var packed = PassagePacker.Pack(ranked, tokenBudget: 100, hit => hit.TokenCount, maxPassages: 2);

        Assert.Equal(["a#0", "c#0"], packed.Passages.Select(h => h.ChunkId));
        Assert.Equal(80, packed.TokenCount);
        Assert.Empty(PassagePacker.Pack(ranked, tokenBudget: 100, hit => hit.TokenCount, maxPassages: 0).Passages);
    }

    [Fact]
    public void Groups_per_document_ordered_by_best_passage_with_passages_in_reading_order()
    {
        SearchHit[] ranked = [Hit("b", 7, 10), Hit("a", 2, 10), Hit("b", 1, 10), Hit("a", 0, 10), Hit("b", 4, 10)];

        var packed = PassagePacker.Pack(ranked, tokenBudget: 1000);

        Assert.Equal(["b", "a"], packed.Documents.Select(d => d.DocumentId));
        Assert.Equal([1, 4, 7], packed.Documents[0].Passages.Select(h => h.Ordinal));
        Assert.Equal([0, 2], packed.Documents[1].Passages.Select(h => h.Ordinal));
        Assert.Equal(("b.md", "Title b"), (packed.Documents[0].Source, packed.Documents[0].Title));
        Assert.Equal(50, packed.TokenCount);
    }

    [Fact]
    public void Per_passage_overhead_counts_against_the_budget_and_repeated_chunks_count_once()
    {
        SearchHit[] ranked = [Hit("a", 0, 10), Hit("a", 0, 10), Hit("b", 0, 10), Hit("c", 0, 10)];

        var packed = PassagePacker.Pack(ranked, tokenBudget: 30, tokensPerPassage: 5);

        Assert.Equal(["a#0", "b#0"], packed.Passages.Select(h => h.ChunkId));
        Assert.Equal(30, packed.TokenCount);
    }

    [Fact]
    public void Empty_budget_or_input_packs_nothing_and_negative_limits_are_rejected()
    {
        Assert.Empty(PassagePacker.Pack([Hit("a", 0, 1)], tokenBudget: 0).Documents);
        Assert.Empty(PassagePacker.Pack([], tokenBudget: 100).Documents);
        Assert.Throws<ArgumentOutOfRangeException>(() => PassagePacker.Pack([], tokenBudget: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PassagePacker.Pack([], 10, tokensPerPassage: -1));
    }
}
