namespace Rag.Ingest.Jobs;

/// <summary>Settings of the "Jobs" configuration section (durations in seconds; fractions allowed).</summary>
public sealed class IngestJobOptions
{
    public const string SectionName = "Jobs";

    /// <summary>Queue database file, in Store:DataDirectory.</summary>
    public string FileName { get; set; } = "jobs.db";

    /// <summary>How long a lease lasts without a heartbeat; a worker that dies loses its job after this.</summary>
    public double LeaseSeconds { get; set; } = 60;

    /// <summary>How often a worker extends the lease of the job it runs; well below LeaseSeconds.</summary>
    public double HeartbeatSeconds { get; set; } = 15;

    /// <summary>Attempts before a job is dead-lettered.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Delay after the first failed attempt; doubles with each further attempt (with jitter).</summary>
    public double BackoffSeconds { get; set; } = 5;

    /// <summary>How long an idle worker waits before asking the queue again.</summary>
    public double PollSeconds { get; set; } = 1;

    /// <summary>Finished jobs older than this are deleted by the workers (and `rag jobs prune`); 0 keeps them forever.</summary>
    public double RetainFinishedDays { get; set; } = 7;

    /// <summary>How often workers log one progress line (jobs done, failed, pending) while jobs finish.</summary>
    public double ProgressSeconds { get; set; } = 10;

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    public TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);

    public TimeSpan Backoff => TimeSpan.FromSeconds(BackoffSeconds);

    public TimeSpan Poll => TimeSpan.FromSeconds(PollSeconds);

    /// <summary>Null when finished jobs are kept forever.</summary>
    public TimeSpan? RetainFinished => RetainFinishedDays > 0 ? TimeSpan.FromDays(RetainFinishedDays) : null;

    public TimeSpan Progress => TimeSpan.FromSeconds(ProgressSeconds);
}
