using Microsoft.SemanticKernel;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Plugins;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Tests;

/// <summary>The rag plugin's functions invoked through the kernel over the ingested samples, without a generator.</summary>
public class PluginFunctionTests
{
    [Theory]
    [InlineData("How do readers and writers avoid blocking each other in write-ahead logging?", "sqlite-wal.txt")]
    [InlineData("What hydration should a beginner use for sourdough dough?", "sourdough-bread.txt")]
    public async Task Search_finds_the_expected_sample_first(string query, string expectedFile)
    {
        await using var host = new KernelTestHost();
        await host.IngestSamplesAsync();

        var passages = await Search(host.Kernel, query, k: 3);

        Assert.InRange(passages.Count, 1, 3);
        Assert.Equal(expectedFile, Path.GetFileName(passages[0].Source));
        Assert.Equal(Enumerable.Range(1, passages.Count), passages.Select(p => p.Number));
        Assert.Equal(passages.Select(p => p.Score).OrderDescending(), passages.Select(p => p.Score));
        Assert.All(passages, p => Assert.False(string.IsNullOrWhiteSpace(p.Text)));
    }

    [Fact]
    public async Task Ingested_text_is_found_by_search_and_its_outcome_follows_the_content()
    {
        await using var host = new KernelTestHost();
        await host.IngestSamplesAsync();
        const string text = "The lighthouse keeper on Skerryvore records the barometric pressure every four hours in a blue ledger.";

        var added = await IngestText(host.Kernel, text, "notes/skerryvore", ["lighthouse"]);
        var unchanged = await IngestText(host.Kernel, text, "notes/skerryvore", ["lighthouse"]);
        var replaced = await IngestText(host.Kernel, text + " Storms are logged in red.", "notes/skerryvore", ["lighthouse"]);

        Assert.Equal((UpsertOutcome.Added, UpsertOutcome.Unchanged, UpsertOutcome.Replaced), (added.Outcome, unchanged.Outcome, replaced.Outcome));
        Assert.Equal(added.DocumentId, unchanged.DocumentId);
        Assert.Equal(1, replaced.ChunkCount);
        var found = await Search(host.Kernel, "Skerryvore barometric pressure ledger", k: 3);
        Assert.Equal("notes/skerryvore", found[0].Source);
        Assert.Contains("Storms are logged in red.", found[0].Text);
        var tagged = await Search(host.Kernel, "pressure", k: 8, tags: ["lighthouse"]);
        Assert.Equal("notes/skerryvore", Assert.Single(tagged).Source);
    }

    public static TheoryData<object> TagForms => new()
    {
        "lighthouse",
        new[] { "lighthouse", "harbour" },
        new List<string> { "lighthouse" },
        "[\"lighthouse\", \"harbour\"]",
        System.Text.Json.JsonDocument.Parse("\"lighthouse\"").RootElement,
        System.Text.Json.JsonDocument.Parse("[\"harbour\", \"lighthouse\"]").RootElement,
    };

    [Theory]
    [MemberData(nameof(TagForms))]
    public async Task Tags_are_accepted_as_a_plain_string_or_a_list(object tags)
    {
        await using var host = new KernelTestHost();
        await host.IngestSamplesAsync();
        await host.Kernel.InvokeAsync(RagPlugin.PluginName, "ingest_text",
            new() { ["text"] = "The Skerryvore keeper logs the barometric pressure.", ["source"] = "notes/skerryvore", ["tags"] = tags });

        var tagged = (await host.Kernel.InvokeAsync<IReadOnlyList<RagPassage>>(RagPlugin.PluginName, "search",
            new() { ["query"] = "pressure", ["k"] = 8, ["tags"] = tags }))!;
        var document = (await host.Kernel.InvokeAsync<RagDocument>(RagPlugin.PluginName, "get_document", new() { ["id"] = tagged.Single().DocumentId }))!;

        Assert.Equal("notes/skerryvore", document.Source);
        Assert.Contains("lighthouse", document.Tags);
    }

    [Fact]
    public async Task Get_document_returns_the_document_of_a_search_hit_with_its_chunks()
    {
        await using var host = new KernelTestHost();
        await host.IngestSamplesAsync();
        var hit = (await Search(host.Kernel, "reciprocal rank fusion constant k", k: 1))[0];

        var document = await host.Kernel.InvokeAsync<RagDocument>(RagPlugin.PluginName, "get_document", new() { ["id"] = hit.DocumentId });

        Assert.NotNull(document);
        Assert.Equal((hit.DocumentId, hit.Source), (document.Id, document.Source));
        Assert.NotEmpty(document.Chunks);
        Assert.Equal(Enumerable.Range(0, document.Chunks.Count), document.Chunks.Select(c => c.Chunk));
        Assert.Equal(hit.Text, document.Chunks[hit.Chunk].Text.Trim());
    }

    [Fact]
    public async Task Ask_without_a_generator_returns_the_notice_and_the_passages_not_an_answer()
    {
        await using var host = new KernelTestHost();
        await host.IngestSamplesAsync();

        var answer = await host.Kernel.InvokeAsync<RagAnswer>(RagPlugin.PluginName, "ask",
            new() { ["question"] = "How much starter goes into sourdough?", ["k"] = 3 });

        Assert.NotNull(answer);
        Assert.Null(answer.Answer);
        Assert.Equal(AskService.NoModelNotice, answer.Notice);
        Assert.InRange(answer.Citations.Count, 1, 3);
        Assert.Equal(Enumerable.Range(1, answer.Citations.Count), answer.Citations.Select(c => c.Number));
        var sourdough = Assert.Single(answer.Citations, c => c.Source.EndsWith("sourdough-bread.txt", StringComparison.Ordinal));
        Assert.Contains("starter", sourdough.Text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Get_document_with_an_unknown_id_says_not_found()
    {
        await using var host = new KernelTestHost();

        var e = await Assert.ThrowsAsync<RagInputException>(() =>
            host.Kernel.InvokeAsync(RagPlugin.PluginName, "get_document", new() { ["id"] = "no-such-document" }));

        Assert.Contains("'no-such-document' was not found", e.Message);
    }

    [Fact]
    public async Task Bad_input_is_rejected_with_the_rule()
    {
        await using var host = new KernelTestHost();

        Assert.Contains("empty", (await Assert.ThrowsAsync<RagInputException>(() => Search(host.Kernel, "  ", k: 3))).Message);
        Assert.Contains("between 1 and 1024", (await Assert.ThrowsAsync<RagInputException>(() => Search(host.Kernel, "wal", k: 0))).Message);
        Assert.Contains("Tags must not be empty", (await Assert.ThrowsAsync<RagInputException>(() => Search(host.Kernel, "wal", k: 3, tags: [""]))).Message);
        Assert.Contains("between 1 and 1024", (await Assert.ThrowsAsync<RagInputException>(() =>
            host.Kernel.InvokeAsync(RagPlugin.PluginName, "ask", new() { ["question"] = "What?", ["k"] = 5000 }))).Message);
        Assert.Contains("source is empty", (await Assert.ThrowsAsync<ArgumentException>(() => IngestText(host.Kernel, "text", " ", null))).Message);
        Assert.Contains("no text", (await Assert.ThrowsAsync<ArgumentException>(() => IngestText(host.Kernel, "", "notes/empty", null))).Message);
    }

    private static async Task<IReadOnlyList<RagPassage>> Search(Kernel kernel, string query, int k, string[]? tags = null)
    {
        var arguments = new KernelArguments { ["query"] = query, ["k"] = k };
        if (tags is not null) arguments["tags"] = tags;
        return (await kernel.InvokeAsync<IReadOnlyList<RagPassage>>(RagPlugin.PluginName, "search", arguments))!;
    }

    private static async Task<RagIngestResult> IngestText(Kernel kernel, string text, string source, string[]? tags) =>
        (await kernel.InvokeAsync<RagIngestResult>(RagPlugin.PluginName, "ingest_text",
            new() { ["text"] = text, ["source"] = source, ["tags"] = tags }))!;
}
