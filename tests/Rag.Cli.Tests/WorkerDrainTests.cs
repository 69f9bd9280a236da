using System.Text.Json;
using Rag.Ingest.Jobs;
using Rag.Orchestrator.Cli;

namespace Rag.Orchestrator.Tests;

/// <summary>`rag worker --drain`: runs the queue empty, a crashed worker's job included once its lease expires, then exits.</summary>
public sealed class WorkerDrainTests
{
    [Fact]
    public async Task Drain_redoes_a_dead_workers_job_after_its_lease_and_exits_with_nothing_pending()
    {
        await using var test = new WorkerTestHost();
        string queued = await test.Queue.EnqueueAsync(new IngestJobRequest([], [new IngestTextItem("upload://queued", "Queued text.")], []));
        string orphan = await test.Queue.EnqueueAsync(new IngestJobRequest([], [new IngestTextItem("upload://orphan", "Orphaned text.")], []));
        // A worker leases the orphan and dies: nothing heartbeats, the lease runs out after a second.
        IngestJobLease? dead;
        do dead = await test.Queue.TryLeaseAsync("dead-worker", TimeSpan.FromSeconds(1));
        while (dead!.JobId != orphan);

        var config = Path.Combine(test.Directory, "drain.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Store = new { DataDirectory = test.Directory },
            Jobs = new { PollSeconds = 0.02, BackoffSeconds = 0.01, HeartbeatSeconds = 0.05 },
            Logging = new { LogLevel = new { Default = "Warning" } },
        }));

        int exit = await RagCli.Build().Parse(["worker", "--drain", "--count", "2", "--config", config]).InvokeAsync();

        Assert.Equal(0, exit);
        Assert.Equal(0, await test.Queue.CountPendingAsync());
        foreach (string id in new[] { queued, orphan })
            Assert.Equal(IngestJobStatus.Succeeded, (await test.Queue.GetAsync(id))!.Status);
        Assert.Equal(["upload://orphan", "upload://queued"], (await test.Store.ListDocumentsAsync(0, 10)).Select(d => d.Source));
    }
}
