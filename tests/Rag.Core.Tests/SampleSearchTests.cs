using Microsoft.Extensions.DependencyInjection;
using Rag.Orchestrator.Answering;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Tests;

public class SampleSearchTests
{
    [Theory]
    [InlineData("How do readers and writers avoid blocking each other in write-ahead logging?", "sqlite-wal.txt")]
    [InlineData("reciprocal rank fusion constant k", "reciprocal-rank-fusion.html")]
    [InlineData("What hydration should a beginner use for sourdough dough?", "sourdough-bread.txt")]
    [InlineData("greedy longest match World tokenizer vocabulary", "tokenization.md")]
    [InlineData("Which setting points the service at Qdrant?", "operations-runbook.md")]
    [InlineData("Why is the decay of the state bounded in chunked prefill?", "rwkv7-architecture.md")]
    public async Task Sample_query_finds_its_document_first(string query, string expectedFile)
    {
        await using var host = new RagTestHost();
        var summary = await host.IngestSamplesAsync();
        Assert.Empty(summary.Failed);

        var result = await host.Services.GetRequiredService<PassageRetriever>().RetrieveAsync(query, 5);

        Assert.Equal(SearchMode.Bm25, result.Mode);
        Assert.NotEmpty(result.Hits);
        Assert.Equal(expectedFile, Path.GetFileName(result.Hits[0].Source));
    }

    [Fact]
    public async Task Re_ingesting_the_samples_changes_nothing()
    {
        await using var host = new RagTestHost();
        var first = await host.IngestSamplesAsync();
        var second = await host.IngestSamplesAsync();

        Assert.Equal(6, first.Added.Count);
        Assert.Empty(second.Added);
        Assert.Empty(second.Replaced);
        Assert.Equal(6, second.Unchanged.Count);
    }
}

public class HybridModeTests
{
    [Fact]
    public async Task With_an_embedding_model_search_is_hybrid_and_says_so()
    {
        await using var host = new RagTestHost(new Dictionary<string, string?> { ["Embeddings:ModelDirectory"] = TestData.Path("bert-tiny") });
        var summary = await host.IngestSamplesAsync();
        Assert.Empty(summary.Failed);
        var retriever = host.Services.GetRequiredService<PassageRetriever>();

        var hybrid = await retriever.RetrieveAsync("What hydration should a beginner use for sourdough dough?", 5);
        var dense = await retriever.RetrieveAsync("sourdough hydration", 5, SearchMode.Dense);

        Assert.True(retriever.HasEmbedder);
        Assert.Equal(SearchMode.Hybrid, hybrid.Mode);
        Assert.Equal("sourdough-bread.txt", Path.GetFileName(hybrid.Hits[0].Source));
        Assert.Equal(SearchMode.Dense, dense.Mode);
        Assert.NotEmpty(dense.Hits);
    }

    [Fact]
    public async Task Without_an_embedding_model_dense_search_names_the_setting()
    {
        await using var host = new RagTestHost();
        var retriever = host.Services.GetRequiredService<PassageRetriever>();

        var e = await Assert.ThrowsAsync<RagInputException>(() => retriever.RetrieveAsync("anything", 5, SearchMode.Dense));

        Assert.Contains("Embeddings:ModelDirectory", e.Message);
    }
}
