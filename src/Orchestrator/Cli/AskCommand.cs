using System.CommandLine;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rag.Generator.Generation;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Composition;

namespace Rag.Orchestrator.Cli;

/// <summary>
/// `rag ask "question"`: retrieve, pack, generate (streamed to the terminal), then list the cited
/// sources. Without a configured generator it says so, prints the passages and exits 0.
/// </summary>
public static class AskCommand
{
    public static Command Create()
    {
        var question = new Argument<string>("question") { Description = "The question to answer from your documents." };
        var k = CliOptions.K();
        var tags = CliOptions.Tags();
        var sourcePrefix = CliOptions.SourcePrefix();
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Most tokens to generate (default Generator:MaxTokens)." };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature; 0 is greedy." };
        var seed = new Option<long?>("--seed") { Description = "Seed for reproducible sampling." };
        var command = new Command("ask", "Answer a question from the retrieved passages, with cited sources.")
        {
            question, k, tags, sourcePrefix, maxTokens, temperature, seed,
        };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            await using var services = RagServices.Build(parse.GetValue(RagCli.ConfigOption));
            var ask = services.GetRequiredService<AskService>();
            var retriever = services.GetRequiredService<PassageRetriever>();
            var generation = new ChatOptions
            {
                MaxOutputTokens = RequestRules.MaxTokens(parse.GetValue(maxTokens), "--max-tokens", services.GetRequiredService<IOptions<GeneratorOptions>>().Value.MaxTokens),
                Temperature = RequestRules.Temperature(parse.GetValue(temperature)),
                Seed = parse.GetValue(seed),
            };
            var request = new AskRequest(parse.GetValue(question)!, parse.GetValue(k), CliOptions.Filter(parse.GetValue(tags), parse.GetValue(sourcePrefix)), generation);
            var context = await ask.PrepareAsync(request, ct);
            Console.WriteLine($"retrieval: {CliOptions.Describe(context.Mode, retriever.HasEmbedder)}; {context.Passages.Count} passages");
            Console.WriteLine();
            if (!ask.HasGenerator)
            {
                Console.WriteLine(AskService.NoModelNotice);
                Console.WriteLine();
                foreach (var c in context.Citations)
                    Console.WriteLine($"[{c.Number}] {c.Reference} (score {c.Score:F4})\n    {c.Snippet}");
                return CliErrors.Ok;
            }

            Console.WriteLine("Answer:");
            await foreach (var update in ask.StreamAsync(context, generation, ct))
                Console.Write(update.Text);
            Console.WriteLine();
            Console.WriteLine();
            Console.WriteLine("Sources:");
            foreach (var c in context.Citations)
                Console.WriteLine($"[{c.Number}] {c.Reference}");
            return CliErrors.Ok;
        }, ct));
        return command;
    }
}
