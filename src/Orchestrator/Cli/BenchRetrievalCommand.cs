using System.CommandLine;
using Rag.Retrieval.Benchmarks;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag bench retrieval`: ingest rate and search latency of the embedded store on synthetic chunks.</summary>
public static class BenchRetrievalCommand
{
    public static Command Create()
    {
        var chunks = new Option<string>("--chunks") { Description = "Comma-separated store sizes in chunks.", DefaultValueFactory = _ => "100000" };
        var dim = new Option<int>("--dim") { Description = "Vector dimension.", DefaultValueFactory = _ => 384 };
        var k = new Option<string>("-k") { Description = "Comma-separated k values.", DefaultValueFactory = _ => "64,512" };
        var device = new Option<string>("--device") { Description = "cpu, or cuda to rank dense vectors by one matmul on the GPU.", DefaultValueFactory = _ => "cpu" };
        var dataDirectory = new Option<string?>("--data-directory") { Description = "Where to build the synthetic stores (default: a temporary folder, deleted afterwards)." };
        var command = new Command("retrieval", "Build synthetic stores and report ingest rate and p50/p95 dense and BM25 search latency.") { chunks, dim, k, device, dataDirectory };
        command.SetAction((parse, ct) => CliErrors.RunAsync(() =>
        {
            var ks = CliOptions.PositiveIntList(parse.GetValue(k)!, "-k");
            var root = parse.GetValue(dataDirectory) ?? Path.Combine(Path.GetTempPath(), $"rag-bench-{Guid.NewGuid():N}");
            Console.WriteLine($"{"operation",-18} {"chunks",9} {"dim",5} {"k",5} {"samples",7} {"chunks/s",10} {"p50 ms",8} {"p95 ms",8}");
            try
            {
                foreach (int n in CliOptions.PositiveIntList(parse.GetValue(chunks)!, "--chunks"))
                {
                    var directory = Path.Combine(root, n.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    foreach (var r in RetrievalBenchmark.Run(n, parse.GetValue(dim), ks.ToArray(), directory, message => Console.Error.WriteLine(message), parse.GetValue(device)!))
                        Console.WriteLine($"{r.Operation,-18} {r.Chunks,9} {r.Dimension,5} {r.K,5} {r.Samples,7} {r.ChunksPerSecond,10:F0} {r.P50Milliseconds,8:F2} {r.P95Milliseconds,8:F2}");
                }
            }
            finally
            {
                if (parse.GetValue(dataDirectory) is null && Directory.Exists(root)) Directory.Delete(root, recursive: true);
            }
            return Task.FromResult(CliErrors.Ok);
        }, ct));
        return command;
    }
}
