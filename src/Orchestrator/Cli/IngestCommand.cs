using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Rag.Ingest.Pipeline;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Composition;
using Rag.Orchestrator.Workers;

namespace Rag.Orchestrator.Cli;

/// <summary>
/// `rag ingest PATH... [--tags a,b] [--workers N]`: load, chunk, embed and store files and folders, with progress and
/// a summary; with --workers, as one durable job per file run by N workers (resumable, retried on failure).
/// </summary>
public static class IngestCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Files or folders (walked recursively).", Arity = ArgumentArity.OneOrMore };
        var tags = new Option<string?>("--tags") { Description = "Comma-separated tags stored with every document, e.g. --tags handbook,2026." };
        var workers = new Option<int?>("--workers")
        {
            Description = "Batch job mode: enqueue one job per file and run N workers until the queue is drained (failed files are retried).",
        };
        var command = new Command("ingest", "Index documents (.txt .md .html .pdf .docx) into the store. Re-running skips unchanged files.")
        {
            paths, tags, workers,
        };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            await using var services = RagServices.Build(parse.GetValue(RagCli.ConfigOption));
            var tagList = (parse.GetValue(tags) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parse.GetValue(workers) is not { } workerCount)
                return await IngestNowAsync(services, parse.GetValue(paths)!, tagList, ct);
            if (workerCount < 1) throw new RagInputException($"--workers must be at least 1; got {workerCount}.");
            return await IngestAsJobsAsync(services, parse.GetValue(paths)!, tagList, workerCount, ct);
        }, ct));
        return command;
    }

    private static async Task<int> IngestNowAsync(IServiceProvider services, string[] paths, string[] tags, CancellationToken ct)
    {
        var summary = await services.GetRequiredService<IngestPipeline>().IngestAsync(paths, tags, new ConsoleProgress(), ct);
        Console.Error.WriteLine();
        Print(summary);
        return summary.Failed.Count == 0 ? CliErrors.Ok : CliErrors.Failed;
    }

    private static async Task<int> IngestAsJobsAsync(IServiceProvider services, string[] paths, string[] tags, int workers, CancellationToken ct)
    {
        var result = await new IngestBatch(services).RunAsync(paths, tags, workers, new ConsoleBatchProgress(), ct);
        Console.Error.WriteLine();
        Print(result);
        return result.Succeeded ? CliErrors.Ok : CliErrors.Failed;
    }

    private static void Print(IngestSummary s)
    {
        Console.WriteLine($"added {s.Added.Count}, unchanged {s.Unchanged.Count}, replaced {s.Replaced.Count}, " +
                          $"skipped {s.SkippedUnknown.Count + s.SkippedEmpty.Count}, failed {s.Failed.Count}; {s.Chunks} chunks in {s.Elapsed.TotalSeconds:F1} s");
        foreach (var path in s.SkippedUnknown) Console.WriteLine($"  skipped {path}: unsupported file type");
        foreach (var skipped in s.SkippedEmpty) Console.WriteLine($"  skipped {skipped.Path}: {skipped.Reason}");
        foreach (var failure in s.Failed) Console.WriteLine($"  failed  {failure.Path}: {failure.Reason}");
    }

    private static void Print(IngestBatchResult r)
    {
        var failed = r.Failed.ToList();
        var dead = r.DeadLettered.ToList();
        Console.WriteLine($"{r.Jobs.Count} jobs: added {r.Added}, unchanged {r.Unchanged}, replaced {r.Replaced}, skipped {r.Skipped.Count + r.SkippedByJobs.Count}, " +
                          $"failed {failed.Count + r.Missing.Count}, dead-lettered {dead.Count}; in {r.Elapsed.TotalSeconds:F1} s");
        foreach (var path in r.Skipped) Console.WriteLine($"  skipped {path}: unsupported file type");
        foreach (var note in r.SkippedByJobs) Console.WriteLine($"  {note}");
        foreach (var missing in r.Missing) Console.WriteLine($"  failed  {missing.Path}: {missing.Reason}");
        foreach (var job in failed) Console.WriteLine($"  failed  {string.Join("; ", job.Job.Errors)}");
        foreach (var job in dead) Console.WriteLine($"  dead    {job.File} (job {job.Job.Id}): {job.Job.Errors.LastOrDefault()}");
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

    /// <summary>Jobs done, rate and ETA on stderr: in place on a terminal, only when the count changes when redirected.</summary>
    private sealed class ConsoleBatchProgress : IProgress<IngestBatchProgress>
    {
        private int _lastDone = -1;

        public void Report(IngestBatchProgress p)
        {
            var eta = p.Eta is { } t ? $"{t:hh\\:mm\\:ss}" : "--:--:--";
            var line = $"jobs {p.Done}/{p.Total}  {p.JobsPerSecond:F1} jobs/s  ETA {eta}";
            if (!Console.IsErrorRedirected) Console.Error.Write($"\r{line}   ");
            else if (p.Done != _lastDone) Console.Error.WriteLine(line);
            _lastDone = p.Done;
        }
    }
}
