using System.Text.Json;
using Microsoft.Data.Sqlite;
using Rag.Retrieval.Embedded;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Rag.Ingest.Jobs;

/// <summary>
/// The job queue in its own SQLite file (WAL, busy timeout), so any number of worker processes on one machine share
/// it whatever the document store is. Every state change is one guarded UPDATE: a lease is identified by its owner
/// and attempt number, so a worker whose lease expired and was taken over can no longer change the job.
/// </summary>
public sealed class SqliteIngestJobQueue : IIngestJobQueue
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string InfoColumns = "id, status, attempts, created_at, updated_at, added, unchanged, replaced, failed, errors, next_attempt_at";

    /// <summary>Matches only the job row of this exact lease.</summary>
    private const string OwnedBy = "id = $id AND status = 'Running' AND lease_owner = $owner AND attempts = $attempt";

    private readonly string _connectionString;
    private readonly IngestJobOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public SqliteIngestJobQueue(string databasePath, IngestJobOptions options, TimeProvider? time = null, ILogger<SqliteIngestJobQueue>? logger = null)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<SqliteIngestJobQueue>.Instance;
        _connectionString = SqliteFile.ConnectionString(databasePath);

        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS jobs (
                id               TEXT PRIMARY KEY,
                status           TEXT NOT NULL,
                request          TEXT NOT NULL,
                attempts         INTEGER NOT NULL DEFAULT 0,
                lease_owner      TEXT,
                lease_expires_at INTEGER,
                next_attempt_at  INTEGER NOT NULL,
                added            INTEGER NOT NULL DEFAULT 0,
                unchanged        INTEGER NOT NULL DEFAULT 0,
                replaced         INTEGER NOT NULL DEFAULT 0,
                failed           INTEGER NOT NULL DEFAULT 0,
                errors           TEXT NOT NULL DEFAULT '[]',
                created_at       INTEGER NOT NULL,
                updated_at       INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at);
            """);
        _logger.LogDebug("Job queue opened at {Path}", Path.GetFullPath(databasePath));
    }

    public async Task<string> EnqueueAsync(IngestJobRequest request, CancellationToken cancellationToken = default)
    {
        Validate(request);
        string id = Guid.CreateVersion7().ToString("N");
        long now = Now();
        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, """
            INSERT INTO jobs (id, status, request, next_attempt_at, created_at, updated_at)
            VALUES ($id, 'Queued', $request, $now, $now, $now)
            """, cancellationToken, ("$id", id), ("$request", JsonSerializer.Serialize(request, Json)), ("$now", now));
        return id;
    }

    public async Task<IngestJobInfo?> GetAsync(string jobId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var jobs = await ReadInfosAsync(connection, $"SELECT {InfoColumns} FROM jobs WHERE id = $id", cancellationToken, ("$id", jobId));
        return jobs.Count == 0 ? null : jobs[0];
    }

    public async Task<IReadOnlyList<IngestJobInfo>> GetManyAsync(IReadOnlyCollection<string> jobIds, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadInfosAsync(connection, $"SELECT {InfoColumns} FROM jobs WHERE id IN (SELECT value FROM json_each($ids))",
            cancellationToken, ("$ids", JsonSerializer.Serialize(jobIds)));
    }

    public async Task<int> CountPendingAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, "SELECT count(*) FROM jobs WHERE status IN ('Queued', 'Running')");
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken));
    }

    public async Task<IngestJobLease?> TryLeaseAsync(string workerId, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        long now = Now();
        long expires = now + (long)leaseDuration.TotalMilliseconds;
        await using var connection = await OpenAsync(cancellationToken);
        // BEGIN IMMEDIATE: takes the write lock up front, so two processes cannot both pick the same row.
        await using var transaction = connection.BeginTransaction(deferred: false);

        // A job that keeps killing its worker would otherwise be leased forever.
        await ExecuteAsync(connection, """
            UPDATE jobs SET status = 'DeadLettered', lease_owner = NULL, lease_expires_at = NULL, updated_at = $now,
                errors = json_insert(errors, '$[#]', 'attempt ' || attempts || ': lease expired (the worker stopped responding)')
            WHERE status = 'Running' AND lease_expires_at <= $now AND attempts >= $max
            """, cancellationToken, ("$now", now), ("$max", _options.MaxAttempts));

        IngestJobLease? lease = null;
        await using (var command = Command(connection, """
            UPDATE jobs SET status = 'Running', attempts = attempts + 1, lease_owner = $owner, lease_expires_at = $expires, updated_at = $now
            WHERE id = (SELECT id FROM jobs
                        WHERE (status = 'Queued' AND next_attempt_at <= $now) OR (status = 'Running' AND lease_expires_at <= $now)
                        ORDER BY created_at, rowid LIMIT 1)
            RETURNING id, attempts, request
            """, ("$owner", workerId), ("$expires", expires), ("$now", now)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                var request = JsonSerializer.Deserialize<IngestJobRequest>(reader.GetString(2), Json)
                              ?? throw new InvalidDataException($"Job {reader.GetString(0)} has an empty request.");
                lease = new IngestJobLease(reader.GetString(0), workerId, reader.GetInt32(1), request, FromMilliseconds(expires));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return lease;
    }

    public async Task<bool> HeartbeatAsync(IngestJobLease lease, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        long now = Now();
        return await UpdateOwnedAsync(lease, "lease_expires_at = $expires, updated_at = $now", cancellationToken,
            ("$expires", now + (long)leaseDuration.TotalMilliseconds), ("$now", now));
    }

    public Task<bool> CompleteAsync(IngestJobLease lease, IngestJobResult result, CancellationToken cancellationToken = default) =>
        UpdateOwnedAsync(lease, """
            status = $status, lease_owner = NULL, lease_expires_at = NULL, updated_at = $now,
            added = $added, unchanged = $unchanged, replaced = $replaced, failed = $failed, errors = $errors
            """, cancellationToken,
            ("$status", (result.Failed == 0 ? IngestJobStatus.Succeeded : IngestJobStatus.Failed).ToString()), ("$now", Now()),
            ("$added", result.Added), ("$unchanged", result.Unchanged), ("$replaced", result.Replaced), ("$failed", result.Failed),
            ("$errors", JsonSerializer.Serialize(result.Errors)));

    public Task<bool> FailAsync(IngestJobLease lease, string reason, CancellationToken cancellationToken = default)
    {
        long now = Now();
        bool exhausted = lease.Attempt >= _options.MaxAttempts;
        return UpdateOwnedAsync(lease, """
            status = $status, lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = $next, updated_at = $now,
            errors = json_insert(errors, '$[#]', $error)
            """, cancellationToken,
            ("$status", (exhausted ? IngestJobStatus.DeadLettered : IngestJobStatus.Queued).ToString()),
            ("$next", now + (long)BackoffAfter(lease.Attempt).TotalMilliseconds), ("$now", now),
            ("$error", $"attempt {lease.Attempt}: {reason}"));
    }

    public async Task<IReadOnlyList<IngestJobInfo>> ListAsync(IngestJobStatus? status, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadInfosAsync(connection,
            $"SELECT {InfoColumns} FROM jobs WHERE $status IS NULL OR status = $status ORDER BY updated_at DESC, id DESC LIMIT $limit",
            cancellationToken, ("$status", (object?)status?.ToString() ?? DBNull.Value), ("$limit", limit));
    }

    public async Task<bool> RetryAsync(string jobId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ExecuteAsync(connection, """
            UPDATE jobs SET status = 'Queued', attempts = 0, next_attempt_at = $now, updated_at = $now,
                            added = 0, unchanged = 0, replaced = 0, failed = 0, errors = '[]'
            WHERE id = $id AND status IN ('Failed', 'DeadLettered')
            """, cancellationToken, ("$id", jobId), ("$now", Now())) == 1;
    }

    public async Task<int> PruneAsync(DateTimeOffset finishedBefore, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ExecuteAsync(connection, "DELETE FROM jobs WHERE status IN ('Succeeded', 'Failed', 'DeadLettered') AND updated_at < $before",
            cancellationToken, ("$before", finishedBefore.ToUnixTimeMilliseconds()));
    }

    public Task<bool> ReleaseAsync(IngestJobLease lease, CancellationToken cancellationToken = default) =>
        UpdateOwnedAsync(lease, """
            status = 'Queued', attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = $now, updated_at = $now
            """, cancellationToken, ("$now", Now()));

    /// <summary>Backoff · 2^(attempt-1), drawn uniformly from its upper half so workers that failed together spread out.</summary>
    private TimeSpan BackoffAfter(int attempt)
    {
        TimeSpan full = _options.Backoff * Math.Pow(2, Math.Min(attempt - 1, 20));
        return full * (0.5 + Random.Shared.NextDouble() / 2);
    }

    private async Task<bool> UpdateOwnedAsync(IngestJobLease lease, string assignments, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        int rows = await ExecuteAsync(connection, $"UPDATE jobs SET {assignments} WHERE {OwnedBy}", cancellationToken,
            [.. parameters, ("$id", lease.JobId), ("$owner", lease.WorkerId), ("$attempt", lease.Attempt)]);
        return rows == 1;
    }

    private static void Validate(IngestJobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Paths is null || request.Texts is null || request.Tags is null)
            throw new ArgumentException("An ingest job request needs Paths, Texts and Tags lists (empty lists are fine).", nameof(request));
        if (request.Paths.Count == 0 && request.Texts.Count == 0)
            throw new ArgumentException("An ingest job request needs at least one path or text.", nameof(request));
        foreach (string path in request.Paths)
            if (string.IsNullOrWhiteSpace(path))
                throw new ArgumentException("An ingest job path is empty.", nameof(request));
        foreach (IngestTextItem item in request.Texts)
        {
            if (string.IsNullOrWhiteSpace(item.Source))
                throw new ArgumentException("An ingest job text has an empty source.", nameof(request));
            if (string.IsNullOrWhiteSpace(item.Text))
                throw new ArgumentException($"Text '{item.Source}' of the ingest job is empty.", nameof(request));
        }
    }

    private async Task<List<IngestJobInfo>> ReadInfosAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var jobs = new List<IngestJobInfo>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var status = Enum.Parse<IngestJobStatus>(reader.GetString(1));
            jobs.Add(new IngestJobInfo(reader.GetString(0), status, reader.GetInt32(2),
                FromMilliseconds(reader.GetInt64(3)), FromMilliseconds(reader.GetInt64(4)),
                reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7), reader.GetInt32(8),
                JsonSerializer.Deserialize<List<string>>(reader.GetString(9)) ?? [])
            {
                NextAttemptAt = status == IngestJobStatus.Queued ? FromMilliseconds(reader.GetInt64(10)) : null,
            });
        }

        return jobs;
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static DateTimeOffset FromMilliseconds(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL;");
        return connection;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL;", cancellationToken);
        return connection;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return command;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = Command(connection, sql);
        command.ExecuteNonQuery();
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
