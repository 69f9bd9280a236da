using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Composition;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag search "query"`: ranked passages with scores and sources.</summary>
public static class SearchCommand
{
    public static Command Create()
    {
        var query = new Argument<string>("query") { Description = "What to search for." };
        var k = CliOptions.K();
        var mode = CliOptions.Mode();
        var tags = CliOptions.Tags();
        var sourcePrefix = CliOptions.SourcePrefix();
        var command = new Command("search", "Print ranked passages with scores and sources.") { query, k, mode, tags, sourcePrefix };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            await using var services = RagServices.Build(parse.GetValue(RagCli.ConfigOption));
            var ask = services.GetRequiredService<AskService>();
            var retriever = services.GetRequiredService<PassageRetriever>();
            var result = await ask.SearchAsync(parse.GetValue(query), parse.GetValue(k), CliOptions.ParseMode(parse.GetValue(mode)),
                CliOptions.Filter(parse.GetValue(tags), parse.GetValue(sourcePrefix)), ct);
            Console.WriteLine($"mode: {CliOptions.Describe(result.Mode, retriever.HasEmbedder)}; {result.Hits.Count} passages");
            foreach (var citation in AnswerPrompt.Cite(result.Hits))
                Console.WriteLine($"{citation.Number,4}  {citation.Score,9:F4}  {citation.Reference}\n      {citation.Snippet}");
            return CliErrors.Ok;
        }, ct));
        return command;
    }
}
