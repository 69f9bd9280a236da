using Microsoft.Extensions.DependencyInjection;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Tests;

public class AskServiceTests
{
    [Fact]
    public async Task Without_a_generator_ask_returns_the_notice_and_cited_passages_not_an_answer()
    {
        await using var host = new RagTestHost();
        await host.IngestSamplesAsync();
        var ask = host.Services.GetRequiredService<AskService>();

        var result = await ask.AskAsync(new AskRequest("How much starter goes into sourdough?", K: 3));

        Assert.False(ask.HasGenerator);
        Assert.Null(result.Answer);
        Assert.Contains("Generator:ModelPath", result.Notice);
        Assert.InRange(result.Context.Citations.Count, 1, 3);
        Assert.Equal(Enumerable.Range(1, result.Context.Citations.Count), result.Context.Citations.Select(c => c.Number));
        Assert.Contains(result.Context.Citations, c => c.Source.EndsWith("sourdough-bread.txt", StringComparison.Ordinal));
        var prompt = result.Context.Prompt.Last().Text;
        Assert.Contains("[1] ", prompt);
        Assert.EndsWith("Question: How much starter goes into sourdough?", prompt);
    }

    [Theory]
    [InlineData("", null, "empty")]
    [InlineData("   ", null, "empty")]
    [InlineData("What?", 0, "between 1 and 1024")]
    [InlineData("What?", -5, "between 1 and 1024")]
    [InlineData("What?", 1_000_000_000, "between 1 and 1024")]
    public async Task Bad_questions_and_k_are_rejected_with_the_rule(string question, int? k, string expected)
    {
        await using var host = new RagTestHost();
        var ask = host.Services.GetRequiredService<AskService>();

        var e = await Assert.ThrowsAsync<RagInputException>(() => ask.AskAsync(new AskRequest(question, k)));

        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task An_over_long_question_names_the_limit()
    {
        await using var host = new RagTestHost(new Dictionary<string, string?> { ["Ask:MaxQuestionChars"] = "100" });
        var ask = host.Services.GetRequiredService<AskService>();

        var e = await Assert.ThrowsAsync<RagInputException>(() => ask.AskAsync(new AskRequest(new string('x', 101))));

        Assert.Contains("101 characters", e.Message);
        Assert.Contains("Ask:MaxQuestionChars", e.Message);
    }
}
