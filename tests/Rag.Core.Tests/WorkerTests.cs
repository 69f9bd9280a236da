using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Rag.Ingest.Jobs;
using Rag.Orchestrator.Composition;
using Rag.Orchestrator.Workers;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Tests;

public sealed class WorkerTests
{
    private static IngestJobRequest Texts(params (string Source, string Text)[] texts) =>
        new([], texts.Select(t => new IngestTextItem(t.Source, t.Text, t.Source)).ToList(), ["jobs"]);

    [Fact]
    public async Task Hosted_workers_ingest_an_uploaded_text_that_search_then_finds()
    {
        await using var test = new WorkerTestHost();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddRag(test.Configuration).AddRagWorkers(test.Configuration, count: 2);
        using var host = builder.Build();
        var workers = host.Services.GetServices<IHostedService>().OfType<IngestWorker>().ToList();
        Assert.Equal(2, workers.Select(w => w.WorkerId).Distinct().Count());
        var queue = host.Services.GetRequiredService<IIngestJobQueue>();

        await host.StartAsync();
        string id = await queue.EnqueueAsync(Texts(("upload://zebras", "Zebras migrate across the Serengeti plains every year in search of grass.")));
        var job = await WorkerTestHost.WaitUntilFinishedAsync(queue, id);
        await host.StopAsync();

        Assert.Equal(IngestJobStatus.Succeeded, job.Status);
        Assert.Equal((1, 1), (job.Attempts, job.Added));
        var hits = await host.Services.GetRequiredService<IDocumentStore>().SearchAsync(new SearchQuery("Serengeti migration", default, 5, SearchMode.Bm25));
        Assert.Equal("upload://zebras", hits[0].Source);
    }

    [Fact]
    public async Task Attempt_that_fails_as_a_whole_is_retried_and_succeeds()
    {
        await using var test = new WorkerTestHost(new ScriptedEmbedder { FailFirstCalls = 1 });
        string id = await test.Queue.EnqueueAsync(Texts(("upload://a", "Alpha text.")));

        var job = await RunWorkerUntilFinishedAsync(test, id);

        Assert.Equal(IngestJobStatus.Succeeded, job.Status);
        Assert.Equal((2, 1), (job.Attempts, job.Added));
    }

    [Fact]
    public async Task Item_that_fails_on_its_own_makes_the_job_Failed_without_retries()
    {
        await using var test = new WorkerTestHost();
        string id = await test.Queue.EnqueueAsync(new IngestJobRequest([Path.Combine(test.Directory, "missing.txt")], [], []));

        var job = await RunWorkerUntilFinishedAsync(test, id);

        Assert.Equal(IngestJobStatus.Failed, job.Status);
        Assert.Equal(1, job.Attempts);
        Assert.Contains("missing.txt: path does not exist", Assert.Single(job.Errors));
    }

    [Fact]
    public async Task Worker_killed_mid_job_leaves_it_leasable_and_the_rerun_stores_each_document_once()
    {
        var embedder = new ScriptedEmbedder { Block = true };
        await using var test = new WorkerTestHost(embedder);
        string id = await test.Queue.EnqueueAsync(Texts(("upload://1", "First text."), ("upload://2", "Second text, BLOCK here."), ("upload://3", "Third text.")));

        using (var killed = IngestWorker.Create(test.Services, "killed"))
        {
            await killed.StartAsync(CancellationToken.None);
            await embedder.Blocked.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await killed.StopAsync(CancellationToken.None);
        }

        var interrupted = (await test.Queue.GetAsync(id))!;
        Assert.Equal(IngestJobStatus.Queued, interrupted.Status);
        Assert.Equal(["upload://1"], (await test.Store.ListDocumentsAsync(0, 10)).Select(d => d.Source));

        embedder.Block = false;
        var job = await RunWorkerUntilFinishedAsync(test, id);

        Assert.Equal(IngestJobStatus.Succeeded, job.Status);
        Assert.Equal((2, 1), (job.Added, job.Unchanged));
        var stored = await test.Store.ListDocumentsAsync(0, 10);
        Assert.Equal(["upload://1", "upload://2", "upload://3"], stored.Select(d => d.Source).Order());
    }

    [Fact]
    public async Task Job_of_a_worker_that_died_without_heartbeats_is_taken_over_after_its_lease_expires()
    {
        await using var test = new WorkerTestHost(leaseSeconds: 0.3);
        string id = await test.Queue.EnqueueAsync(Texts(("upload://a", "Alpha text.")));
        var dead = await test.Queue.TryLeaseAsync("dead", TimeSpan.FromSeconds(0.3));
        Assert.Equal(id, dead!.JobId);

        var job = await RunWorkerUntilFinishedAsync(test, id);

        Assert.Equal(IngestJobStatus.Succeeded, job.Status);
        Assert.Equal(2, job.Attempts);
        Assert.False(await test.Queue.CompleteAsync(dead, new IngestJobResult(0, 0, 0, 0, [])));
    }

    private static async Task<IngestJobInfo> RunWorkerUntilFinishedAsync(WorkerTestHost test, string jobId)
    {
        using var worker = IngestWorker.Create(test.Services, "worker");
        await worker.StartAsync(CancellationToken.None);
        var job = await WorkerTestHost.WaitUntilFinishedAsync(test.Queue, jobId);
        await worker.StopAsync(CancellationToken.None);
        return job;
    }
}
