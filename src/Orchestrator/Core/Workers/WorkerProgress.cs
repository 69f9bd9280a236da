using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rag.Ingest.Jobs;

namespace Rag.Orchestrator.Workers;

/// <summary>Jobs the workers of this process have finished, for the progress line (workers log each job at debug only).</summary>
public sealed class WorkerProgress
{
    private int _done, _failed;

    public void Finished(IngestJobResult result)
    {
        Interlocked.Increment(ref _done);
        if (result.Failed > 0) Interlocked.Increment(ref _failed);
    }

    public (int Done, int Failed) Snapshot => (Volatile.Read(ref _done), Volatile.Read(ref _failed));
}

/// <summary>
/// The workers' housekeeping: one progress line at info every Jobs:ProgressSeconds in which jobs finished, and the
/// deletion of finished jobs older than Jobs:RetainFinishedDays (at start, then hourly), so jobs.db does not grow forever.
/// </summary>
public sealed class WorkerHousekeeping(WorkerProgress progress, IIngestJobQueue queue, IOptions<IngestJobOptions> options,
    ILogger<WorkerHousekeeping> logger, TimeProvider? time = null) : BackgroundService
{
    private static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Progress;
        using var timer = new PeriodicTimer(interval, _time);
        var reported = progress.Snapshot;
        var nextPrune = _time.GetUtcNow();
        try
        {
            do
            {
                if (_time.GetUtcNow() >= nextPrune)
                {
                    await PruneAsync(stoppingToken);
                    nextPrune = _time.GetUtcNow() + PruneInterval;
                }
                var now = progress.Snapshot;
                if (now.Done != reported.Done)
                {
                    WorkerLog.Progress(logger, now.Done - reported.Done, interval.TotalSeconds, now.Done, now.Failed, await PendingAsync(stoppingToken));
                    reported = now;
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        if (options.Value.RetainFinished is not { } retain) return;
        try
        {
            int pruned = await queue.PruneAsync(_time.GetUtcNow() - retain, cancellationToken);
            if (pruned > 0) WorkerLog.Pruned(logger, pruned, options.Value.RetainFinishedDays);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            WorkerLog.QueueError(logger, "housekeeping", e.Message);
        }
    }

    private async Task<string> PendingAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await queue.CountPendingAsync(cancellationToken)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return "unknown"; // the progress line must not fail because the queue is briefly locked
        }
    }
}
