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
        var topP = new Option<float?>("--top-p") { Description = "Nucleus sampling: keep the most likely tokens whose probabilities sum to this (default Generator:TopP)." };
        var seed = new Option<long?>("--seed") { Description = "Seed for reproducible sampling." };
        var timings = new Option<bool>("--timings") { Description = "Print where the time went: loading, retrieving, packing, prefill (until the first token), decoding." };
        var command = new Command("ask", "Answer a question from the retrieved passages, with cited sources.")
        {
            question, k, tags, sourcePrefix, maxTokens, temperature, topP, seed, timings,
        };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            var clock = new AskTimings();
            await using var services = RagServices.Build(parse.GetValue(RagCli.ConfigOption));
            // Flags first: loading the generator model takes a while.
            GenerationLimits.CheckMaxTokens(parse.GetValue(maxTokens), services.GetRequiredService<IOptions<GeneratorOptions>>().Value.MaxTokens, "--max-tokens");
            GenerationLimits.CheckTemperature(parse.GetValue(temperature), "--temperature");
            GenerationLimits.CheckTopP(parse.GetValue(topP), "--top-p");
            var ask = services.GetRequiredService<AskService>();
            var retriever = services.GetRequiredService<PassageRetriever>();
            var generation = new ChatOptions
            {
                MaxOutputTokens = parse.GetValue(maxTokens), Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP), Seed = parse.GetValue(seed),
            };
            // The generator loads at first use; the CLI loads it here, after the flags, so --timings shows it apart.
            services.LoadGenerator();
            clock.Mark("load");
            var request = new AskRequest(parse.GetValue(question)!, parse.GetValue(k), CliOptions.Filter(parse.GetValue(tags), parse.GetValue(sourcePrefix)), generation);
            var retrieved = await ask.RetrieveAsync(request, ct);
            clock.Mark("retrieve");
            var context = ask.Pack(request.Question, retrieved);
            clock.Mark("pack");
            Console.WriteLine($"retrieval: {CliOptions.Describe(context.Mode, retriever.HasEmbedder)}; {context.Passages.Count} passages");
            Console.WriteLine();
            if (AskService.FoundNothing(context))
            {
                Console.WriteLine(AskService.NothingFoundAnswer);
                return CliErrors.Ok;
            }
            if (!ask.HasGenerator)
            {
                Console.WriteLine(AskService.NoModelNotice);
                Console.WriteLine();
                foreach (var c in context.Citations)
                    Console.WriteLine($"[{c.Number}] {c.Reference} (score {c.Score:F4})\n    {c.Snippet}");
                if (parse.GetValue(timings)) Console.WriteLine(clock.Summary(usage: null));
                return CliErrors.Ok;
            }

            Console.WriteLine("Answer:");
            UsageDetails? usage = null;
            await foreach (var update in ask.StreamAsync(context, generation, ct))
            {
                if (!clock.Has("prefill") && update.Text.Length > 0) clock.Mark("prefill");
                usage = update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details ?? usage;
                Console.Write(update.Text);
            }
            clock.Mark("decode");
            Console.WriteLine();
            Console.WriteLine();
            Console.WriteLine("Sources:");
            foreach (var c in context.Citations)
                Console.WriteLine($"[{c.Number}] {c.Reference}");
            if (parse.GetValue(timings))
            {
                Console.WriteLine();
                Console.WriteLine(clock.Summary(usage));
            }
            return CliErrors.Ok;
        }, ct));
        return command;
    }
}
