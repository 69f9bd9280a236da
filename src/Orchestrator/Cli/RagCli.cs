using System.CommandLine;
using System.CommandLine.Parsing;

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

    /// <summary>
    /// Parses and runs a command line. A syntax error (unknown option, a value of the wrong kind) is bad input:
    /// one line on stderr and exit 2, as for every other bad input, instead of the whole help.
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count == 0)
            return await parse.InvokeAsync();
        // "Required command was not provided" comes with the more telling error, if any (an unknown command's name).
        var error = parse.Errors.OrderBy(e => e.SymbolResult is CommandResult && e.Message.StartsWith("Required command", StringComparison.Ordinal)).First();
        await Console.Error.WriteLineAsync($"error: {ParseErrors.Describe(error)} (rag --help lists the commands and options)");
        return CliErrors.BadInput;
    }

    public static RootCommand Build()
    {
        var root = new RootCommand("Rag: retrieval-augmented generation over your documents with an RWKV-7 generator.");
        root.Options.Add(ConfigOption);
        root.Subcommands.Add(IngestCommand.Create());
        root.Subcommands.Add(WorkerCommand.Create());
        root.Subcommands.Add(JobsCommand.Create());
        root.Subcommands.Add(SearchCommand.Create());
        root.Subcommands.Add(AskCommand.Create());
        root.Subcommands.Add(ModelCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(StoreCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(HealthCommand.Create());
        return root;
    }
}
