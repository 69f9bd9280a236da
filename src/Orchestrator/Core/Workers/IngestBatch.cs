using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rag.Ingest;
using Rag.Ingest.Jobs;
using Rag.Ingest.Loading;
using Rag.Ingest.Pipeline;

namespace Rag.Orchestrator.Workers;

/// <summary>Reported each time the batch polls the queue.</summary>
public sealed record IngestBatchProgress(int Done, int Total, TimeSpan Elapsed)
{
    public double JobsPerSecond => Elapsed > TimeSpan.Zero ? Done / Elapsed.TotalSeconds : 0;

    /// <summary>Null until the first job has finished.</summary>
    public TimeSpan? Eta => Done > 0 ? TimeSpan.FromSeconds((Total - Done) / JobsPerSecond) : null;
}

/// <summary>One file of the batch and its job as last seen.</summary>
public sealed record IngestBatchJob(string File, IngestJobInfo Job);

/// <summary>What a batch did: every job's final state, plus the files that never became jobs.</summary>
/// <param name="Skipped">Files no loader handles (not enqueued).</param>
/// <param name="Missing">Paths that do not exist, folders that could not be listed and paths outside the ingest roots.</param>
public sealed record IngestBatchResult(IReadOnlyList<IngestBatchJob> Jobs, IReadOnlyList<string> Skipped, IReadOnlyList<IngestFailure> Missing, TimeSpan Elapsed)
{
    public int Added => Jobs.Sum(j => j.Job.Added);

    public int Unchanged => Jobs.Sum(j => j.Job.Unchanged);

    public int Replaced => Jobs.Sum(j => j.Job.Replaced);

    /// <summary>Files the jobs skipped (empty), each as "path: skipped, reason": a succeeded job's only errors are these notes.</summary>
    public IReadOnlyList<string> SkippedByJobs => Jobs.Where(j => j.Job.Status == IngestJobStatus.Succeeded).SelectMany(j => j.Job.Errors).ToList();

    public IEnumerable<IngestBatchJob> Failed => Jobs.Where(j => j.Job.Status == IngestJobStatus.Failed);

    public IEnumerable<IngestBatchJob> DeadLettered => Jobs.Where(j => j.Job.Status == IngestJobStatus.DeadLettered);

    public bool Succeeded => Missing.Count == 0 && Jobs.All(j => j.Job.Status == IngestJobStatus.Succeeded);
}

/// <summary>
/// Batch job mode of `rag ingest --workers N`: one durable job per file, N in-process workers, until every job of
/// the batch has finished. Other `rag worker` processes on the same data directory may take part. An interrupted
/// batch is resumed by running it again: files already stored with the same content are skipped.
/// </summary>
public sealed class IngestBatch(IServiceProvider services)
{
    private readonly IIngestJobQueue _queue = services.GetRequiredService<IIngestJobQueue>();
    private readonly TimeSpan _poll = services.GetRequiredService<IOptions<IngestJobOptions>>().Value.Poll;

    public async Task<IngestBatchResult> RunAsync(IEnumerable<string> paths, IReadOnlyList<string> tags, int workers,
        IProgress<IngestBatchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (workers < 1)
            throw new ArgumentOutOfRangeException(nameof(workers), workers, $"The worker count ({workers}) must be at least 1.");
        var clock = Stopwatch.StartNew();
        var (files, skipped, missing) = await EnqueueAsync(paths, tags, cancellationToken);

        List<IngestWorker> pool = Enumerable.Range(0, workers).Select(i => IngestWorker.Create(services, IngestWorker.NewWorkerId(i))).ToList();
        foreach (IngestWorker worker in pool)
            await worker.StartAsync(cancellationToken);
        try
        {
            IReadOnlyList<IngestJobInfo> jobs = await WaitForAllAsync(files.Keys.ToList(), clock, progress, cancellationToken);
            var finished = jobs.Select(j => new IngestBatchJob(files[j.Id], j)).OrderBy(j => j.File, StringComparer.Ordinal).ToList();
            return new IngestBatchResult(finished, skipped, missing, clock.Elapsed);
        }
        finally
        {
            // Workers release the job they hold, so an interrupted batch leaves nothing leased.
            foreach (IngestWorker worker in pool)
            {
                await worker.StopAsync(CancellationToken.None);
                worker.Dispose();
            }
        }
    }

    /// <summary>
    /// One durable job per file the loaders handle, for these workers or any other (`rag worker`, `rag serve`).
    /// </summary>
    /// <returns>Job id → file; files no loader handles (not enqueued); paths that could not be walked.</returns>
    public async Task<(IReadOnlyDictionary<string, string> Jobs, IReadOnlyList<string> Skipped, IReadOnlyList<IngestFailure> Missing)> EnqueueAsync(
        IEnumerable<string> paths, IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        SourceFiles sources = SourceFileWalker.Walk(paths, services.GetRequiredService<IOptions<IngestOptions>>().Value.Roots);
        var loaders = services.GetRequiredService<DocumentLoaderRegistry>();
        List<string> skipped = sources.Files.Where(f => !loaders.CanLoad(f)).ToList();

        var jobs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in sources.Files.Where(loaders.CanLoad))
            jobs[await _queue.EnqueueAsync(new IngestJobRequest([file], [], tags), cancellationToken)] = file;
        return (jobs, skipped, sources.Failures);
    }

    private async Task<IReadOnlyList<IngestJobInfo>> WaitForAllAsync(IReadOnlyCollection<string> ids, Stopwatch clock,
        IProgress<IngestBatchProgress>? progress, CancellationToken cancellationToken)
    {
        while (true)
        {
            IReadOnlyList<IngestJobInfo> jobs = await _queue.GetManyAsync(ids, cancellationToken);
            int done = jobs.Count(j => j.IsFinished);
            progress?.Report(new IngestBatchProgress(done, ids.Count, clock.Elapsed));
            if (done == ids.Count)
                return jobs;
            await Task.Delay(_poll, cancellationToken);
        }
    }
}
