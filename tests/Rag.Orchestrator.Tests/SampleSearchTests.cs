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
