using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rag.Ingest.Jobs;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Composition;
using Rag.Orchestrator.Workers;

namespace Rag.Orchestrator.Cli;

/// <summary>
/// `rag jobs enqueue|list|show|retry|prune`: the durable ingestion queue (&lt;Store:DataDirectory&gt;/jobs.db) for
/// operators: queue a batch for the workers without running it, look at jobs, retry failed ones, delete old ones.
/// </summary>
public static class JobsCommand
{
    public static Command Create()
    {
        var command = new Command("jobs", "Manage the ingestion job queue that `rag worker` and `rag serve` run.");
        command.Subcommands.Add(Enqueue());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(Retry());
        command.Subcommands.Add(Prune());
        return command;
    }

    private static Command Enqueue()
    {
        var paths = new Argument<string[]>("paths") { Description = "Files or folders (walked recursively); one job per file.", Arity = ArgumentArity.OneOrMore };
        var tags = new Option<string?>("--tags") { Description = "Comma-separated tags stored with every document." };
        var command = new Command("enqueue", "Queue one ingestion job per file without running it (workers pick them up).") { paths, tags };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            await using var services = RagServices.Build(parse.GetValue(RagCli.ConfigOption));
            var tagList = (parse.GetValue(tags) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var (jobs, skipped, missing) = await new IngestBatch(services).EnqueueAsync(parse.GetValue(paths)!, tagList, ct);
            Console.WriteLine($"enqueued {jobs.Count} jobs; skipped {skipped.Count}, failed {missing.Count}");
            foreach (var path in skipped) Console.WriteLine($"  skipped {path}: unsupported file type");
            foreach (var failure in missing) Console.WriteLine($"  failed  {failure.Path}: {failure.Reason}");
            return missing.Count == 0 ? CliErrors.Ok : CliErrors.Failed;
        }, ct));
        return command;
    }

    private static Command List()
    {
        var status = new Option<string?>("--status") { Description = $"Only jobs of this status: {StatusNames}." };
        var limit = new Option<int>("--limit") { Description = "Most jobs to print, newest first (default 50).", DefaultValueFactory = _ => 50 };
        var command = new Command("list", "Print jobs, the most recently updated first.") { status, limit };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            var wanted = ParseStatus(parse.GetValue(status));
            int most = parse.GetValue(limit);
            if (most < 1) throw new RagInputException($"--limit must be at least 1; got {most}.");
            await using var services = RagServices.Build(parse.GetValue(RagCli.ConfigOption));
            var jobs = await services.GetRequiredService<IIngestJobQueue>().ListAsync(wanted, most, ct);
            foreach (var job in jobs)
                Console.WriteLine($"{job.Id}  {Name(job.Status),-13} {job.UpdatedAt:u}  attempts {job.Attempts}  " +
                                  $"added {job.Added} replaced {job.Replaced} unchanged {job.Unchanged} failed {job.Failed}");
            Console.WriteLine($"{jobs.Count} jobs");
            return CliErrors.Ok;
        }, ct));
        return command;
    }

    private static Command Show()
    {
        var id = new Argument<string>("id") { Description = "Job id (from `rag jobs list` or POST /v1/documents)." };
        var command = new Command("show", "Print one job: status, attempts, counts and errors.") { id };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            await using var services = RagServices.Build(parse.GetValue(RagCli.ConfigOption));
            var job = await services.GetRequiredService<IIngestJobQueue>().GetAsync(parse.GetValue(id)!, ct)
                      ?? throw new RagInputException($"Job '{parse.GetValue(id)}' does not exist (rag jobs list shows the jobs).");
            Console.WriteLine($"job       {job.Id}");
            Console.WriteLine($"status    {Name(job.Status)}");
            Console.WriteLine($"attempts  {job.Attempts}");
            Console.WriteLine($"created   {job.CreatedAt:u}");
            Console.WriteLine($"updated   {job.UpdatedAt:u}");
            if (job.NextAttemptAt is { } next) Console.WriteLine($"due       {next:u}");
            Console.WriteLine($"counts    added {job.Added}, replaced {job.Replaced}, unchanged {job.Unchanged}, failed {job.Failed}");
            foreach (var error in job.Errors) Console.WriteLine($"  {error}");
            return CliErrors.Ok;
        }, ct));
        return command;
    }

    private static Command Retry()
    {
        var ids = new Argument<string[]>("ids") { Description = "Failed or dead-lettered jobs to run again.", Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all") { Description = "Every failed and dead-lettered job." };
        var command = new Command("retry", "Queue failed or dead-lettered jobs again, with fresh attempts.") { ids, all };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            var given = parse.GetValue(ids) ?? [];
            bool everyFailed = parse.GetValue(all);
            if (given.Length > 0 == everyFailed)
                throw new RagInputException("Name the jobs to retry, or pass --all (not both).");
            await using var services = RagServices.Build(parse.GetValue(RagCli.ConfigOption));
            var queue = services.GetRequiredService<IIngestJobQueue>();
            IEnumerable<string> targets = given;
            if (everyFailed)
            {
                var failed = new List<string>();
                foreach (var status in new[] { IngestJobStatus.Failed, IngestJobStatus.DeadLettered })
                    failed.AddRange((await queue.ListAsync(status, int.MaxValue, ct)).Select(j => j.Id));
                targets = failed;
            }

            int retried = 0;
            foreach (var id in targets)
            {
                if (await queue.RetryAsync(id, ct)) retried++;
                else
                    throw new RagInputException(await queue.GetAsync(id, ct) is { } job
                        ? $"Job '{id}' is {Name(job.Status)}; only failed and dead-lettered jobs are retried."
                        : $"Job '{id}' does not exist.");
            }
            Console.WriteLine($"queued {retried} jobs again");
            return CliErrors.Ok;
        }, ct));
        return command;
    }

    private static Command Prune()
    {
        var olderThan = new Option<double?>("--older-than-days")
        {
            Description = "Delete finished jobs last updated more than this many days ago (default Jobs:RetainFinishedDays; 0 = all finished jobs).",
        };
        var command = new Command("prune", "Delete old finished jobs (succeeded, failed, dead-lettered); queued and running jobs are kept.") { olderThan };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            await using var services = RagServices.Build(parse.GetValue(RagCli.ConfigOption));
            double days = parse.GetValue(olderThan) ?? services.GetRequiredService<IOptions<IngestJobOptions>>().Value.RetainFinishedDays;
            if (!(days >= 0)) throw new RagInputException($"--older-than-days must be at least 0; got {days}.");
            var cutoff = DateTimeOffset.UtcNow - TimeSpan.FromDays(days);
            int pruned = await services.GetRequiredService<IIngestJobQueue>().PruneAsync(cutoff, ct);
            Console.WriteLine($"pruned {pruned} finished jobs last updated before {cutoff:u}");
            return CliErrors.Ok;
        }, ct));
        return command;
    }

    private static readonly string StatusNames = string.Join(", ", Enum.GetValues<IngestJobStatus>().Select(Name));

    /// <summary>As the API spells statuses: snake_case.</summary>
    private static string Name(IngestJobStatus status) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(status.ToString());

    private static IngestJobStatus? ParseStatus(string? text)
    {
        if (text is null) return null;
        foreach (var status in Enum.GetValues<IngestJobStatus>())
            if (Name(status) == text.ToLowerInvariant()) return status;
        throw new RagInputException($"Unknown --status '{text}'; expected one of {StatusNames}.");
    }
}
