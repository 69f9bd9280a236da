using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rag.Generator.Chat;
using Rag.Orchestrator.Answering;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Tests;

public class AnswerPromptTests
{
    private static SearchHit Hit(string document, int ordinal, string text) =>
        new($"{document}#{ordinal}", document, $"/docs/{document}.md", document, ordinal, text, TokenCount: 10, Score: 0.5);

    [Fact]
    public void The_prompt_reads_question_then_passages_best_last_then_question_then_the_answer_turn()
    {
        const string question = "How long does the dough rise?";
        // Ranked best first: two passages of "bread", then one of "pizza".
        var passages = new[] { Hit("bread", 2, "Rise for 4 hours."), Hit("bread", 3, "Shape the loaf."), Hit("pizza", 1, "Pizza dough rests 1 hour.") };

        var prompt = ChatPromptFormatter.Format(AnswerPrompt.Build(question, passages));

        int firstQuestion = prompt.IndexOf($"User: Question: {question}", StringComparison.Ordinal);
        int pizza = prompt.IndexOf("[3] pizza\nPizza dough rests 1 hour.", StringComparison.Ordinal);
        int best = prompt.IndexOf("[1] bread\nRise for 4 hours.", StringComparison.Ordinal);
        int next = prompt.IndexOf("[2] bread\nShape the loaf.", StringComparison.Ordinal);
        int lastQuestion = prompt.LastIndexOf($"Question: {question}", StringComparison.Ordinal);
        Assert.StartsWith($"System: {AnswerPrompt.Instructions}\n\n", prompt);
        Assert.True(firstQuestion > 0 && firstQuestion < pizza && pizza < best && best < next && next < lastQuestion,
            $"order question {firstQuestion} < [3] {pizza} < [1] {best} < [2] {next} < question {lastQuestion}");
        Assert.EndsWith($"Question: {question}\n\nAssistant:", prompt);
    }
}

public class PromptBudgetTests
{
    [Fact]
    public async Task With_a_generator_the_packed_prompt_is_counted_by_the_generator_and_always_fits_its_limit()
    {
        const int maxPromptTokens = 3000;
        await using var host = new RagTestHost(new Dictionary<string, string?>
        {
            ["Generator:ModelPath"] = TinyRwkv.ModelPath,
            ["Generator:VocabPath"] = TinyRwkv.VocabPath,
            ["Generator:MaxPromptTokens"] = $"{maxPromptTokens}",
            ["Ask:PromptTokenBudget"] = $"{maxPromptTokens}",
        });
        await host.IngestSamplesAsync();
        var ask = host.Services.GetRequiredService<AskService>();
        var counter = host.Services.GetRequiredService<IChatClient>().GetService<IPromptTokenCounter>()!;

        var result = await ask.AskAsync(new AskRequest("How do I keep a sourdough starter alive?", K: 64, Generation: new ChatOptions { MaxOutputTokens = 2, Temperature = 0 }));

        int promptTokens = counter.CountPromptTokens(result.Context.Prompt);
        Assert.InRange(promptTokens, 1, maxPromptTokens);
        Assert.Equal(promptTokens, (int)result.Usage!.InputTokenCount!);
        Assert.NotEmpty(result.Context.Passages);
        var retrieved = await ask.RetrieveAsync(new AskRequest("How do I keep a sourdough starter alive?", K: 64));
        Assert.True(result.Context.Passages.Count < retrieved.Hits.Count, "the limit made the packer keep fewer passages than retrieved");
    }

    [Fact]
    public async Task A_budget_above_the_generators_limit_is_refused_at_start_naming_both_settings()
    {
        await using var host = new RagTestHost(new Dictionary<string, string?>
        {
            ["Generator:MaxPromptTokens"] = "1000",
            ["Ask:PromptTokenBudget"] = "2000",
        });

        var e = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<AskOptions>>().Value);

        Assert.Contains("Ask:PromptTokenBudget 2000 exceeds Generator:MaxPromptTokens 1000", e.Message);
    }
}
