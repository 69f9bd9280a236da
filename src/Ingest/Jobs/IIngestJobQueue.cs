namespace Rag.Ingest.Jobs;

public enum IngestJobStatus { Queued, Running, Succeeded, Failed, DeadLettered }

/// <summary>Text handed over directly (API JSON uploads, agents) rather than as a file.</summary>
public sealed record IngestTextItem(string Source, string Text, string? Title = null);

/// <summary>What a job ingests: files already saved under the data directory and/or inline texts, with tags.</summary>
public sealed record IngestJobRequest(IReadOnlyList<string> Paths, IReadOnlyList<IngestTextItem> Texts, IReadOnlyList<string> Tags);

/// <summary>A job as seen by callers polling GET /v1/jobs/{id}.</summary>
public sealed record IngestJobInfo(
    string Id,
    IngestJobStatus Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int Added,
    int Unchanged,
    int Replaced,
    int Failed,
    IReadOnlyList<string> Errors)
{
    /// <summary>When a Queued job may be leased again (later than now while it backs off after a failed attempt).</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }

    /// <summary>Succeeded, Failed or DeadLettered: no worker will touch the job again.</summary>
    public bool IsFinished => Status is IngestJobStatus.Succeeded or IngestJobStatus.Failed or IngestJobStatus.DeadLettered;
}

/// <summary>A job held by one worker until <see cref="ExpiresAt"/>; <see cref="Attempt"/> (1-based) identifies this lease.</summary>
public sealed record IngestJobLease(string JobId, string WorkerId, int Attempt, IngestJobRequest Request, DateTimeOffset ExpiresAt);

/// <summary>
/// What a finished attempt did. Items that failed for a reason of their own (unreadable file, unsupported type,
/// empty text) are counted here and make the job Failed; retrying would fail the same way.
/// </summary>
public sealed record IngestJobResult(int Added, int Unchanged, int Replaced, int Failed, IReadOnlyList<string> Errors);

/// <summary>
/// The durable ingestion queue: jobs survive restarts, are leased by one worker at a time (with a
/// heartbeat), retried with backoff and dead-lettered after too many attempts.
/// </summary>
public interface IIngestJobQueue
{
    Task<string> EnqueueAsync(IngestJobRequest request, CancellationToken cancellationToken = default);

    Task<IngestJobInfo?> GetAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>The jobs of <paramref name="jobIds"/> that exist, in no particular order (one query, for batch progress).</summary>
    Task<IReadOnlyList<IngestJobInfo>> GetManyAsync(IReadOnlyCollection<string> jobIds, CancellationToken cancellationToken = default);

    /// <summary>Jobs waiting or running (queue depth, for metrics and readiness).</summary>
    Task<int> CountPendingAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the oldest Queued job that is due, or a Running job whose lease expired (its worker died), and counts
    /// an attempt; null when there is nothing to do.
    /// </summary>
    Task<IngestJobLease?> TryLeaseAsync(string workerId, TimeSpan leaseDuration, CancellationToken cancellationToken = default);

    /// <summary>Extends the lease; false when the worker no longer owns the job (it expired and was taken over).</summary>
    Task<bool> HeartbeatAsync(IngestJobLease lease, TimeSpan leaseDuration, CancellationToken cancellationToken = default);

    /// <summary>Records the result: Succeeded, or Failed when some item failed. False when the lease was lost.</summary>
    Task<bool> CompleteAsync(IngestJobLease lease, IngestJobResult result, CancellationToken cancellationToken = default);

    /// <summary>
    /// The attempt failed as a whole (store or embedder unavailable): back to Queued after an exponential backoff,
    /// or DeadLettered with <paramref name="reason"/> once the attempts are used up. False when the lease was lost.
    /// </summary>
    Task<bool> FailAsync(IngestJobLease lease, string reason, CancellationToken cancellationToken = default);

    /// <summary>The most recently updated jobs first, of one status or all; at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<IngestJobInfo>> ListAsync(IngestJobStatus? status, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Puts a Failed or DeadLettered job back in the queue, due now, with its attempts and counts reset. False when
    /// the job does not exist or did not fail (queued, running and succeeded jobs are left alone).
    /// </summary>
    Task<bool> RetryAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Deletes finished jobs (succeeded, failed, dead-lettered) last updated before <paramref name="finishedBefore"/>; returns how many.</summary>
    Task<int> PruneAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken = default);

    /// <summary>Gives the job back untouched (worker shutting down): Queued and due now, this attempt not counted.</summary>
    Task<bool> ReleaseAsync(IngestJobLease lease, CancellationToken cancellationToken = default);
}
