using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Rag.Ingest.Pipeline;
using Rag.Orchestrator.Composition;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag ingest PATH... [--tags a,b]`: load, chunk, embed and store files and folders, with progress and a summary.</summary>
public static class IngestCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Files or folders (walked recursively).", Arity = ArgumentArity.OneOrMore };
        var tags = new Option<string?>("--tags") { Description = "Comma-separated tags stored with every document, e.g. --tags handbook,2026." };
        var command = new Command("ingest", "Index documents (.txt .md .html .pdf .docx) into the store. Re-running skips unchanged files.") { paths, tags };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            await using var services = RagServices.Build(parse.GetValue(RagCli.ConfigOption));
            var pipeline = services.GetRequiredService<IngestPipeline>();
            var tagList = (parse.GetValue(tags) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var summary = await pipeline.IngestAsync(parse.GetValue(paths)!, tagList, new ConsoleProgress(), ct);
            Console.Error.WriteLine();
            Print(summary);
            return summary.Failed.Count == 0 ? CliErrors.Ok : CliErrors.Failed;
        }, ct));
        return command;
    }

    private static void Print(IngestSummary s)
    {
        Console.WriteLine($"added {s.Added.Count}, unchanged {s.Unchanged.Count}, replaced {s.Replaced.Count}, " +
                          $"skipped {s.SkippedUnknown.Count}, failed {s.Failed.Count}; {s.Chunks} chunks in {s.Elapsed.TotalSeconds:F1} s");
        foreach (var path in s.SkippedUnknown) Console.WriteLine($"  skipped {path}: unsupported file type");
        foreach (var failure in s.Failed) Console.WriteLine($"  failed  {failure.Path}: {failure.Reason}");
    }

    /// <summary>One status line on stderr, rewritten in place on a terminal, every 10 files when redirected.</summary>
    private sealed class ConsoleProgress : IProgress<IngestProgress>
    {
        public void Report(IngestProgress p)
        {
            var line = $"files {p.FilesDone}/{p.FilesTotal}  chunks {p.Chunks}  {p.FilesPerSecond:F1} files/s  {p.BytesPerSecond / 1e6:F2} MB/s";
            if (!Console.IsErrorRedirected) Console.Error.Write($"\r{line}   ");
            else if (p.FilesDone % 10 == 0 || p.FilesDone == p.FilesTotal) Console.Error.WriteLine(line);
        }
    }
}
