using Microsoft.Extensions.Logging;

namespace Rag.Orchestrator.Workers;

internal static partial class WorkerLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} started")]
    public static partial void Started(ILogger logger, string workerId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} stopped")]
    public static partial void Stopped(ILogger logger, string workerId);

    // Per job (a job is often one file): debug. Operators see the progress line, and each failure once.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} attempt {Attempt} leased by {WorkerId}")]
    public static partial void Leased(ILogger logger, string jobId, int attempt, string workerId);

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "Job {JobId} done: {Added} added, {Replaced} replaced, {Unchanged} unchanged, {Failed} failed")]
    public static partial void Completed(ILogger logger, string jobId, int added, int replaced, int unchanged, int failed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} failed: {Errors}")]
    public static partial void CompletedWithFailures(ILogger logger, string jobId, string errors);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "{Finished} jobs finished in the last {Seconds} s; {Done} done by this process ({Failed} failed), {Pending} queued or running")]
    public static partial void Progress(ILogger logger, int finished, double seconds, int done, int failed, string pending);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pruned {Count} finished jobs older than {Days} days (Jobs:RetainFinishedDays)")]
    public static partial void Pruned(ILogger logger, int count, double days);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} attempt {Attempt} failed: {Reason}")]
    public static partial void AttemptFailed(ILogger logger, string jobId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: lease lost to another worker; abandoning this attempt")]
    public static partial void LeaseLost(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} released: worker {WorkerId} is stopping")]
    public static partial void Released(ILogger logger, string jobId, string workerId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker {WorkerId}: job queue unavailable: {Reason}")]
    public static partial void QueueError(ILogger logger, string workerId, string reason);
}
