using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rag.Ingest.Jobs;
using Rag.Orchestrator.Cli;
using Rag.Orchestrator.Workers;

namespace Rag.Orchestrator.Tests;

/// <summary>`rag jobs enqueue|list|show|retry|prune`, the workers' quiet logs and the automatic pruning of old jobs.</summary>
public sealed class JobsCommandTests
{
    [Fact]
    public async Task Enqueue_then_drain_logs_quietly_prints_each_failure_once_and_skips_empty_files()
    {
        using var cli = new CliProcess();
        var docs = Directory.CreateDirectory(Path.Combine(cli.Directory, "docs")).FullName;
        await File.WriteAllTextAsync(Path.Combine(docs, "apples.txt"), "Apples grow on trees in orchards.");
        await File.WriteAllTextAsync(Path.Combine(docs, "pears.md"), "# Pears\n\nPears ripen off the tree.");
        await File.WriteAllTextAsync(Path.Combine(docs, "broken.pdf"), "not a pdf");
        await File.WriteAllBytesAsync(Path.Combine(docs, "empty.txt"), []);
        await File.WriteAllBytesAsync(Path.Combine(docs, "picture.png"), [1, 2, 3]);

        var enqueue = await cli.RunAsync(["jobs", "enqueue", docs, "--tags", "fruit"]);
        var queued = await cli.RunAsync(["jobs", "list", "--status", "queued"]);
        var drain = await cli.RunAsync(["worker", "--drain"]);
        var list = await cli.RunAsync(["jobs", "list"]);

        Assert.True(enqueue.ExitCode == 0, enqueue.ToString());
        Assert.Contains("enqueued 4 jobs; skipped 1, failed 0", enqueue.Stdout);
        Assert.Contains("4 jobs", queued.Stdout);
        Assert.True(drain.ExitCode == 0, drain.ToString());
        var logs = drain.Stdout + drain.Stderr;
        // Per-file lines are debug: nothing per job at the default level but the one failure.
        Assert.DoesNotContain("leased", logs);
        Assert.DoesNotContain("chunks", logs);
        Assert.Single(AllIndexesOf(logs, "broken.pdf"));
        Assert.DoesNotContain("empty.txt", logs);
        var jobs = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(columns => columns[0].Length == 32).Select(columns => (Id: columns[0], Status: columns[1])).ToList();
        Assert.Equal(["failed", "succeeded", "succeeded", "succeeded"], jobs.Select(j => j.Status).Order());

        var shown = new List<string>();
        foreach (var job in jobs.Where(j => j.Status == "succeeded"))
            shown.Add((await cli.RunAsync(["jobs", "show", job.Id])).Stdout);
        var empty = Assert.Single(shown, s => s.Contains("empty.txt"));
        Assert.Contains("status    succeeded", empty);
        Assert.Contains("empty.txt: skipped, file is empty", empty);
    }

    [Fact]
    public async Task Retry_requeues_failed_jobs_and_prune_deletes_old_finished_ones_only()
    {
        await using var test = new WorkerTestHost(settings: new Dictionary<string, string?> { ["Jobs:MaxAttempts"] = "1" });
        string dead = await test.Queue.EnqueueAsync(Text("upload://dead"));
        var lease = (await test.Queue.TryLeaseAsync("w", TimeSpan.FromMinutes(1)))!;
        await test.Queue.FailAsync(lease, "store unavailable");
        string done = await test.Queue.EnqueueAsync(Text("upload://done"));
        lease = (await test.Queue.TryLeaseAsync("w", TimeSpan.FromMinutes(1)))!;
        await test.Queue.CompleteAsync(lease, new IngestJobResult(1, 0, 0, 0, []));
        string waiting = await test.Queue.EnqueueAsync(Text("upload://waiting"));
        Assert.Equal(IngestJobStatus.DeadLettered, (await test.Queue.GetAsync(dead))!.Status);
        var config = await ConfigAsync(test);

        Assert.Equal(0, await RagCli.InvokeAsync(["jobs", "retry", "--all", "--config", config]));
        var retried = (await test.Queue.GetAsync(dead))!;
        Assert.Equal((IngestJobStatus.Queued, 0), (retried.Status, retried.Attempts));
        Assert.Equal(CliErrors.BadInput, await RagCli.InvokeAsync(["jobs", "retry", done, "--config", config]));

        Assert.Equal(0, await RagCli.InvokeAsync(["jobs", "prune", "--older-than-days", "0", "--config", config]));
        Assert.Null(await test.Queue.GetAsync(done));
        Assert.NotNull(await test.Queue.GetAsync(dead));
        Assert.NotNull(await test.Queue.GetAsync(waiting));
    }

    [Fact]
    public async Task Workers_prune_finished_jobs_older_than_the_retention_setting()
    {
        await using var test = new WorkerTestHost();
        string done = await test.Queue.EnqueueAsync(Text("upload://done"));
        var lease = (await test.Queue.TryLeaseAsync("w", TimeSpan.FromMinutes(1)))!;
        await test.Queue.CompleteAsync(lease, new IngestJobResult(1, 0, 0, 0, []));
        string waiting = await test.Queue.EnqueueAsync(Text("upload://waiting"));
        await Task.Delay(300);
        // About 90 ms: the finished job is older than that, the queued one is never pruned.
        var options = Options.Create(new IngestJobOptions { RetainFinishedDays = 0.09 / 86400 });
        using var housekeeping = new WorkerHousekeeping(new WorkerProgress(), test.Queue, options, NullLogger<WorkerHousekeeping>.Instance);

        await housekeeping.StartAsync(CancellationToken.None);
        for (int i = 0; i < 100 && await test.Queue.GetAsync(done) is not null; i++)
            await Task.Delay(20);
        await housekeeping.StopAsync(CancellationToken.None);

        Assert.Null(await test.Queue.GetAsync(done));
        Assert.NotNull(await test.Queue.GetAsync(waiting));
    }

    private static IngestJobRequest Text(string source) => new([], [new IngestTextItem(source, "Some text.")], []);

    private static async Task<string> ConfigAsync(WorkerTestHost test)
    {
        var config = Path.Combine(test.Directory, "jobs.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { Store = new { DataDirectory = test.Directory } }));
        return config;
    }

    private static List<int> AllIndexesOf(string text, string word)
    {
        var found = new List<int>();
        for (int i = text.IndexOf(word, StringComparison.Ordinal); i >= 0; i = text.IndexOf(word, i + 1, StringComparison.Ordinal))
            found.Add(i);
        return found;
    }
}
