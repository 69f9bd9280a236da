using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rag.Ingest.Jobs;
using Rag.Ingest.Pipeline;

namespace Rag.Orchestrator.Workers;

/// <summary>
/// Takes jobs from the queue one at a time and ingests them, extending the lease on a timer while a job runs.
/// On stop, the running job is released for another worker. A worker that dies simply stops heartbeating: its
/// lease expires and another worker re-runs the job, which is safe because ingestion is idempotent.
/// </summary>
public sealed class IngestWorker(
    string workerId,
    IIngestJobQueue queue,
    IServiceScopeFactory scopes,
    IOptions<IngestJobOptions> options,
    ILogger<IngestWorker> logger,
    TimeProvider? time = null,
    WorkerProgress? progress = null) : BackgroundService
{
    public const string ActivitySourceName = "Rag.Orchestrator.Workers";

    /// <summary>Starts one "ingest.job" activity per leased job.</summary>
    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);

    private readonly IngestJobOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public string WorkerId => workerId;

    /// <summary>A worker over the queue, options and logging of <paramref name="services"/>.</summary>
    public static IngestWorker Create(IServiceProvider services, string workerId) => new(
        workerId,
        services.GetRequiredService<IIngestJobQueue>(),
        services.GetRequiredService<IServiceScopeFactory>(),
        services.GetRequiredService<IOptions<IngestJobOptions>>(),
        services.GetRequiredService<ILogger<IngestWorker>>(),
        services.GetService<TimeProvider>(),
        services.GetService<WorkerProgress>());

    /// <summary>Unique across the processes sharing a queue: machine, process and worker number.</summary>
    public static string NewWorkerId(int index) => $"{Environment.MachineName}:{Environment.ProcessId}:{index}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        WorkerLog.Started(logger, workerId);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (await TryLeaseAsync(stoppingToken) is { } lease)
                    await RunAsync(lease, stoppingToken);
                else
                    await Task.Delay(_options.Poll, _time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        WorkerLog.Stopped(logger, workerId);
    }

    private async Task<IngestJobLease?> TryLeaseAsync(CancellationToken stoppingToken)
    {
        try
        {
            return await queue.TryLeaseAsync(workerId, _options.Lease, stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A locked or briefly unavailable queue file: wait a poll interval and ask again.
            WorkerLog.QueueError(logger, workerId, e.Message);
            return null;
        }
    }

    private async Task RunAsync(IngestJobLease lease, CancellationToken stoppingToken)
    {
        using Activity? activity = ActivitySource.StartActivity("ingest.job");
        activity?.SetTag("rag.job.id", lease.JobId);
        activity?.SetTag("rag.job.attempt", lease.Attempt);
        activity?.SetTag("rag.worker.id", workerId);
        WorkerLog.Leased(logger, lease.JobId, lease.Attempt, workerId);

        using var job = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var stopHeartbeat = new CancellationTokenSource();
        Task heartbeat = KeepLeaseAsync(lease, job, stopHeartbeat.Token);
        try
        {
            IngestJobResult result;
            try
            {
                result = await IngestAsync(lease.Request, job.Token);
            }
            finally
            {
                await stopHeartbeat.CancelAsync();
                await heartbeat;
            }

            activity?.SetTag("rag.job.failed_items", result.Failed);
            if (await queue.CompleteAsync(lease, result, CancellationToken.None))
            {
                progress?.Finished(result);
                if (result.Failed > 0) WorkerLog.CompletedWithFailures(logger, lease.JobId, string.Join("; ", result.Errors));
                else WorkerLog.Completed(logger, lease.JobId, result.Added, result.Replaced, result.Unchanged, result.Failed);
            }
            else
                WorkerLog.LeaseLost(logger, lease.JobId);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "worker stopped");
            if (await RecordAsync(() => queue.ReleaseAsync(lease, CancellationToken.None)))
                WorkerLog.Released(logger, lease.JobId, workerId);
        }
        catch (OperationCanceledException) when (job.IsCancellationRequested)
        {
            // The heartbeat found the job taken over; the new owner finishes it.
            activity?.SetStatus(ActivityStatusCode.Error, "lease lost");
        }
        catch (Exception e)
        {
            string reason = $"{e.GetType().Name}: {e.Message}";
            activity?.SetStatus(ActivityStatusCode.Error, reason);
            WorkerLog.AttemptFailed(logger, lease.JobId, lease.Attempt, reason);
            await RecordAsync(() => queue.FailAsync(lease, reason, CancellationToken.None));
        }
    }

    private async Task<IngestJobResult> IngestAsync(IngestJobRequest request, CancellationToken cancellationToken)
    {
        await using AsyncServiceScope scope = scopes.CreateAsyncScope();
        var runner = new IngestJobRunner(scope.ServiceProvider.GetRequiredService<IngestPipeline>());
        return await runner.RunAsync(request, cancellationToken);
    }

    /// <summary>Runs a queue update whose failure must not stop the worker: the lease then expires and the job is retried.</summary>
    private async Task<bool> RecordAsync(Func<Task<bool>> update)
    {
        try
        {
            return await update();
        }
        catch (Exception e)
        {
            WorkerLog.QueueError(logger, workerId, e.Message);
            return false;
        }
    }

    /// <summary>Extends the lease every HeartbeatSeconds; cancels <paramref name="job"/> if another worker took it over.</summary>
    private async Task KeepLeaseAsync(IngestJobLease lease, CancellationTokenSource job, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.Heartbeat, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                bool owned;
                try
                {
                    owned = await queue.HeartbeatAsync(lease, _options.Lease, stop);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    WorkerLog.QueueError(logger, workerId, e.Message);
                    continue;
                }

                if (!owned)
                {
                    WorkerLog.LeaseLost(logger, lease.JobId);
                    await job.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
