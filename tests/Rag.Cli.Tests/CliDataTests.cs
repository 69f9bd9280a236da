using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rag.Ingest.Pipeline;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Composition;
using Rag.Tests;

namespace Rag.Orchestrator.Tests;

/// <summary>What `rag search` and `rag ask` find, run as the executable over a store prepared in its working directory.</summary>
public sealed class CliDataTests : IDisposable
{
    private readonly CliProcess _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Source_prefix_may_be_a_url_as_in_the_api()
    {
        await StoreAsync(("https://example.com/kb/apples", "Apples grow on trees in orchards."), ("https://example.org/apples", "Apples are also sold at markets."));

        var result = await _cli.RunAsync(["search", "apples", "--source-prefix", "https://example.com/kb"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("https://example.com/kb/apples#0", result.Stdout);
        Assert.DoesNotContain("https://example.org/apples", result.Stdout);
        Assert.Contains("; 1 passages", result.Stdout);
    }

    [Fact]
    public async Task Ask_with_no_passage_retrieved_says_nothing_relevant_was_found_and_generates_nothing()
    {
        await StoreAsync(("notes/apples.txt", "Apples grow on trees in orchards."));

        var result = await _cli.RunAsync(["ask", "Where do apples grow?", "--tag", "no-such-tag"],
            new Dictionary<string, string> { ["Generator__ModelPath"] = TinyRwkv.ModelPath, ["Generator__VocabPath"] = TinyRwkv.VocabPath });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("0 passages", result.Stdout);
        Assert.Contains(AskService.NothingFoundAnswer, result.Stdout);
        Assert.DoesNotContain("Answer:", result.Stdout);
        Assert.DoesNotContain("Sources:", result.Stdout);
    }

    [Fact]
    public async Task Store_check_counts_the_documents_and_runs_the_stores_own_integrity_check()
    {
        await StoreAsync(("notes/apples.txt", "Apples grow on trees in orchards."), ("notes/pears.txt", "Pears ripen after picking."));

        var result = await _cli.RunAsync(["store", "check"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("documents 2", result.Stdout);
        Assert.Contains("integrity ok", result.Stdout);  // the embedded store checks its SQLite file
    }

    private async Task StoreAsync(params (string Source, string Text)[] documents)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Store:DataDirectory"] = Path.Combine(_cli.Directory, "data") }).Build();
        await using (var services = RagServices.Build(configuration))
        {
            var pipeline = services.GetRequiredService<IngestPipeline>();
            foreach (var (source, text) in documents)
                await pipeline.IngestTextAsync(text, source);
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}
