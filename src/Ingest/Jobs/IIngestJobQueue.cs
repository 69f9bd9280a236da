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
    IReadOnlyList<string> Errors);

/// <summary>
/// The durable ingestion queue: jobs survive restarts, are leased by one worker at a time (with a
/// heartbeat), retried with backoff and dead-lettered after too many attempts.
/// </summary>
public interface IIngestJobQueue
{
    Task<string> EnqueueAsync(IngestJobRequest request, CancellationToken cancellationToken = default);

    Task<IngestJobInfo?> GetAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Jobs waiting or running (queue depth, for metrics and readiness).</summary>
    Task<int> CountPendingAsync(CancellationToken cancellationToken = default);
}
