using System.CommandLine;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag bench generator|retrieval|api`: benchmarks that print a table (figures go to BENCHMARKS.md).</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks: generator prefill/decode, retrieval latency.");
        command.Subcommands.Add(BenchGeneratorCommand.Create());
        command.Subcommands.Add(BenchRetrievalCommand.Create());
        command.Subcommands.Add(BenchApiCommand.Create());
        command.Subcommands.Add(BenchLoadCommand.Create());
        return command;
    }
}
