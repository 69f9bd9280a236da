using System.CommandLine;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Rag.Ingest.Pipeline;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Composition;
using Rag.Orchestrator.Evaluation;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Embedded;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag eval retrieval --dataset FILE`: recall@k, MRR@10 and queries/s on a SQuAD-format file.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var command = new Command("eval", "Evaluate retrieval quality.");
        var dataset = new Option<string>("--dataset") { Description = "SQuAD-format JSON (data → paragraphs → qas).", Required = true };
        var mode = new Option<string?>("--mode") { Description = "bm25, dense, hybrid or all (default: bm25, plus dense and hybrid when an embedding model is configured)." };
        var retrieval = new Command("retrieval", "Ingest the dataset's paragraphs into a temporary store, ask every question, print recall@1/5/20/100, MRR@10 and queries/s.") { dataset, mode };
        retrieval.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            await using var services = RagServices.Build(parse.GetValue(RagCli.ConfigOption));
            var embedder = services.GetService<IEmbeddingGenerator<string, Embedding<float>>>();
            var modes = parse.GetValue(mode)?.ToLowerInvariant() switch
            {
                null or "all" => embedder is null ? [SearchMode.Bm25] : new[] { SearchMode.Bm25, SearchMode.Dense, SearchMode.Hybrid },
                var one => [CliOptions.ParseMode(one)!.Value],
            };
            var path = parse.GetValue(dataset)!;
            if (!File.Exists(path)) throw new RagInputException($"Dataset '{path}' does not exist.");
            var data = SquadDataset.Load(path);
            var directory = Path.Combine(Path.GetTempPath(), $"rag-eval-{Guid.NewGuid():N}");
            try
            {
                await using var store = SqliteDocumentStore.Open(directory);
                var evaluator = new RetrievalEvaluator(store, ActivatorUtilities.CreateInstance<IngestPipeline>(services, (IDocumentStore)store), embedder);
                await evaluator.IngestAsync(data, ct);
                Console.WriteLine($"{data.Paragraphs.Count} paragraphs, {data.Questions.Count} questions");
                Console.WriteLine($"{"mode",-7} {"R@1",6} {"R@5",6} {"R@20",6} {"R@100",6} {"MRR@10",7} {"q/s",8}");
                foreach (var m in modes)
                {
                    var r = await evaluator.EvaluateAsync(data, m, ct);
                    Console.WriteLine($"{m.ToString().ToLowerInvariant(),-7} {r.RecallAt1,6:F3} {r.RecallAt5,6:F3} {r.RecallAt20,6:F3} {r.RecallAt100,6:F3} {r.MrrAt10,7:F3} {r.QueriesPerSecond,8:F1}");
                }
            }
            finally
            {
                // The store, disposed with the try block, has released its pooled connections to the folder.
                if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
            }
            return CliErrors.Ok;
        }, ct));
        command.Subcommands.Add(retrieval);
        return command;
    }
}
