using System.Diagnostics;
using Rag.Ingest.Jobs;
using Rag.Orchestrator.Workers;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Tests;

/// <summary>
/// Ingestion jobs while Qdrant is away: a loopback proxy in front of the in-memory Qdrant (or a live one when
/// QDRANT_URL is set) drops every connection; the jobs' attempts fail and they stay queued; once the proxy forwards
/// again they complete, and the store holds every document once with exactly its chunks.
/// </summary>
public sealed class QdrantOutageJobTests
{
    [SkippableTheory]
    [MemberData(nameof(OutageEndpoint.Kinds), MemberType = typeof(OutageEndpoint))]
    public async Task Jobs_queued_during_an_outage_wait_and_complete_once_qdrant_is_back(string kind)
    {
        await using var endpoint = OutageEndpoint.Start(kind);
        await using var proxy = new LoopbackTcpProxy(endpoint.Url);
        await using var test = new WorkerTestHost(new ScriptedEmbedder(), settings: new Dictionary<string, string?>
        {
            ["Store:Provider"] = "qdrant",
            ["Qdrant:Url"] = proxy.Url.ToString(),
            ["Qdrant:ApiKey"] = endpoint.ApiKey,
            ["Qdrant:Collection"] = endpoint.Collection,
            ["Qdrant:MaxRetryAttempts"] = "1",
            ["Qdrant:RetryBaseDelay"] = "00:00:00.010",
            ["Qdrant:CircuitMinimumThroughput"] = "2",
            ["Qdrant:CircuitBreakDuration"] = "00:00:00.500",
            ["Jobs:MaxAttempts"] = "1000",
        });
        var folder = Directory.CreateDirectory(Path.Combine(test.Directory, "docs")).FullName;
        for (int i = 0; i < 3; i++)
            await File.WriteAllTextAsync(Path.Combine(folder, $"file-{i}.txt"), $"File number {i} describes the outage drill step {i}.");
        var texts = new[] { ("upload://a", "Alpha arrives first."), ("upload://b", "Bravo follows."), ("upload://c", "Charlie closes.") };

        proxy.Drop();
        string[] jobs =
        [
            await test.Queue.EnqueueAsync(new IngestJobRequest([folder], [], ["outage"])),
            await test.Queue.EnqueueAsync(new IngestJobRequest([], texts[..2].Select(t => new IngestTextItem(t.Item1, t.Item2)).ToList(), [])),
            // The same upload again, and a new one: stored once either way.
            await test.Queue.EnqueueAsync(new IngestJobRequest([], texts[1..].Select(t => new IngestTextItem(t.Item1, t.Item2)).ToList(), [])),
        ];
        using var first = IngestWorker.Create(test.Services, "first");
        using var second = IngestWorker.Create(test.Services, "second");
        await first.StartAsync(CancellationToken.None);
        await second.StartAsync(CancellationToken.None);

        var waiting = await WaitForAsync(test.Queue, jobs, j => j.Attempts >= 2);
        Assert.All(waiting, j => Assert.False(j.IsFinished, $"job {j.Id} ended as {j.Status} during the outage"));
        Assert.All(waiting, j => Assert.Contains(j.Errors, e => e.Contains("Qdrant", StringComparison.Ordinal)));

        proxy.Restore();
        var done = await WaitForAsync(test.Queue, jobs, j => j.IsFinished);
        await first.StopAsync(CancellationToken.None);
        await second.StopAsync(CancellationToken.None);

        Assert.All(done, j => Assert.Equal(IngestJobStatus.Succeeded, j.Status));
        Assert.Equal(3, done.Single(j => j.Id == jobs[0]).Added);
        var stored = await test.Store.ListDocumentsAsync(0, 100);
        var expected = Enumerable.Range(0, 3).Select(i => Path.Combine(folder, $"file-{i}.txt")).Concat(texts.Select(t => t.Item1));
        Assert.Equal(expected.Order(StringComparer.Ordinal), stored.Select(d => d.Source));
        foreach (var document in stored)
            Assert.Equal(document.ChunkCount, (await test.Store.GetChunksAsync(document.Id)).Count);
        // Nothing beyond the records and their chunks: no duplicates, no leftovers of the failed attempts.
        if (endpoint.Server is { } server)
            Assert.Equal(stored.Sum(d => d.ChunkCount + 1), server.Points.Count);
    }

    private static async Task<IReadOnlyList<IngestJobInfo>> WaitForAsync(IIngestJobQueue queue, string[] jobIds, Func<IngestJobInfo, bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var jobs = await queue.GetManyAsync(jobIds);
            if (jobs.Count == jobIds.Length && jobs.All(condition)) return jobs;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the jobs did not get there within 60 s: " +
                string.Join(", ", jobs.Select(j => $"{j.Id} {j.Status} after {j.Attempts} attempts")));
            await Task.Delay(20);
        }
    }
}
