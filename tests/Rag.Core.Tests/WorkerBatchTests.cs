using Rag.Ingest.Jobs;
using Rag.Orchestrator.Workers;

namespace Rag.Orchestrator.Tests;

public sealed class WorkerBatchTests
{
    [Fact]
    public async Task Batch_runs_one_job_per_file_reports_failures_and_skips_stored_files_when_run_again()
    {
        await using var test = new WorkerTestHost();
        string docs = Path.Combine(test.Directory, "docs");
        Directory.CreateDirectory(docs);
        File.WriteAllText(Path.Combine(docs, "a.txt"), "Alpha document about apples.");
        File.WriteAllText(Path.Combine(docs, "b.md"), "# Beta\n\nBananas are yellow.");
        File.WriteAllText(Path.Combine(docs, "c.txt"), "Gamma document about cherries.");
        File.WriteAllText(Path.Combine(docs, "broken.pdf"), "not a pdf");
        File.WriteAllText(Path.Combine(docs, "notes.xyz"), "no loader for this");
        var progress = new List<IngestBatchProgress>();

        var first = await new IngestBatch(test.Services).RunAsync([docs, Path.Combine(test.Directory, "missing")], ["batch"], workers: 2,
            new SynchronousProgress(progress.Add));

        Assert.Equal(4, first.Jobs.Count);
        Assert.Equal(3, first.Added);
        Assert.Equal(Path.Combine(docs, "broken.pdf"), Assert.Single(first.Failed).File);
        Assert.Empty(first.DeadLettered);
        Assert.Equal([Path.Combine(docs, "notes.xyz")], first.Skipped);
        Assert.EndsWith("missing", Assert.Single(first.Missing).Path);
        Assert.False(first.Succeeded);
        Assert.Equal(4, progress[^1].Total);
        Assert.Equal(4, progress[^1].Done);
        Assert.Equal(0, await test.Queue.CountPendingAsync());

        File.Delete(Path.Combine(docs, "broken.pdf"));
        var second = await new IngestBatch(test.Services).RunAsync([docs], ["batch"], workers: 3);

        Assert.Equal((0, 3), (second.Added, second.Unchanged));
        Assert.True(second.Succeeded);
        Assert.All(second.Jobs, j => Assert.Equal(IngestJobStatus.Succeeded, j.Job.Status));
    }

    [Fact]
    public void Progress_rate_and_eta_follow_from_jobs_done_and_elapsed_time()
    {
        Assert.Null(new IngestBatchProgress(0, 8, TimeSpan.FromSeconds(3)).Eta);

        var halfway = new IngestBatchProgress(4, 8, TimeSpan.FromSeconds(10));

        Assert.Equal(0.4, halfway.JobsPerSecond, 12);
        Assert.Equal(TimeSpan.FromSeconds(10), halfway.Eta);
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and race the assertions).</summary>
    private sealed class SynchronousProgress(Action<IngestBatchProgress> report) : IProgress<IngestBatchProgress>
    {
        public void Report(IngestBatchProgress value) => report(value);
    }
}
