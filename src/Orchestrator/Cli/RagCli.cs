using System.CommandLine;

namespace Rag.Orchestrator.Cli;

/// <summary>The `rag` command tree; each command lives in its own class.</summary>
public static class RagCli
{
    /// <summary>--config FILE: a JSON settings file layered over appsettings.json (env vars still win).</summary>
    public static readonly Option<string?> ConfigOption = new("--config")
    {
        Description = "Extra JSON settings file (layered over appsettings.json; environment variables still win).",
        Recursive = true,
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("Rag: retrieval-augmented generation over your documents with an RWKV-7 generator.");
        root.Options.Add(ConfigOption);
        root.Subcommands.Add(IngestCommand.Create());
        root.Subcommands.Add(WorkerCommand.Create());
        root.Subcommands.Add(SearchCommand.Create());
        root.Subcommands.Add(AskCommand.Create());
        root.Subcommands.Add(ModelCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(StoreCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        return root;
    }
}
