using Microsoft.Data.Sqlite;
using Rag.Ingest.Jobs;

namespace Rag.Ingest.Tests.Jobs;

public sealed class SqliteIngestJobQueueTests : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);

    private readonly TempFolder _folder = new();
    private readonly ManualTimeProvider _time = new();

    private string DatabasePath => Path.Combine(_folder.Path, "jobs.db");

    private SqliteIngestJobQueue Queue(IngestJobOptions? options = null) => new(DatabasePath, options ?? new IngestJobOptions(), _time);

    private static IngestJobRequest TextJob(string source = "upload://a") =>
        new([], [new IngestTextItem(source, "Some text.", "A title")], ["tag1"]);

    [Fact]
    public async Task Enqueued_job_is_leased_with_its_request_and_completed_with_its_counts()
    {
        var queue = Queue();
        var request = new IngestJobRequest(["/data/a.txt"], [new IngestTextItem("upload://b", "Text b.", "B")], ["x", "y"]);
        string id = await queue.EnqueueAsync(request);
        Assert.Equal(IngestJobStatus.Queued, (await queue.GetAsync(id))!.Status);
        Assert.Equal(1, await queue.CountPendingAsync());

        var lease = await queue.TryLeaseAsync("w1", Lease);

        Assert.NotNull(lease);
        Assert.Equal(id, lease.JobId);
        Assert.Equal(1, lease.Attempt);
        Assert.Equal(request.Paths, lease.Request.Paths);
        Assert.Equal(request.Texts, lease.Request.Texts);
        Assert.Equal(request.Tags, lease.Request.Tags);
        Assert.Equal(IngestJobStatus.Running, (await queue.GetAsync(id))!.Status);
        Assert.Null(await queue.TryLeaseAsync("w2", Lease));

        Assert.True(await queue.CompleteAsync(lease, new IngestJobResult(2, 1, 3, 0, [])));

        var job = (await queue.GetAsync(id))!;
        Assert.Equal(IngestJobStatus.Succeeded, job.Status);
        Assert.Equal((1, 2, 1, 3, 0), (job.Attempts, job.Added, job.Unchanged, job.Replaced, job.Failed));
        Assert.True(job.IsFinished);
        Assert.Equal(0, await queue.CountPendingAsync());
        Assert.Null(await queue.TryLeaseAsync("w1", Lease));
    }

    [Fact]
    public async Task Job_with_failed_items_ends_Failed_with_their_errors_and_is_not_retried()
    {
        var queue = Queue();
        string id = await queue.EnqueueAsync(TextJob());
        var lease = (await queue.TryLeaseAsync("w1", Lease))!;

        await queue.CompleteAsync(lease, new IngestJobResult(1, 0, 0, 1, ["/data/bad.pdf: not a PDF"]));

        var job = (await queue.GetAsync(id))!;
        Assert.Equal(IngestJobStatus.Failed, job.Status);
        Assert.Equal(["/data/bad.pdf: not a PDF"], job.Errors);
        _time.Advance(TimeSpan.FromDays(1));
        Assert.Null(await queue.TryLeaseAsync("w1", Lease));
    }

    [Fact]
    public async Task Jobs_are_leased_oldest_first()
    {
        var queue = Queue();
        string first = await queue.EnqueueAsync(TextJob("upload://1"));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        string second = await queue.EnqueueAsync(TextJob("upload://2"));

        Assert.Equal(first, (await queue.TryLeaseAsync("w", Lease))!.JobId);
        Assert.Equal(second, (await queue.TryLeaseAsync("w", Lease))!.JobId);
    }

    [Fact]
    public async Task Concurrent_workers_never_lease_the_same_job()
    {
        const int jobs = 40;
        var producer = Queue();
        for (int i = 0; i < jobs; i++)
            await producer.EnqueueAsync(TextJob($"upload://{i}"));

        // One queue instance per worker, each with its own connections, as separate processes would have.
        var leased = await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var queue = Queue();
            var mine = new List<string>();
            while (await queue.TryLeaseAsync($"w{w}", Lease) is { } lease)
                mine.Add(lease.JobId);
            return mine;
        })));

        var all = leased.SelectMany(ids => ids).ToList();
        Assert.Equal(jobs, all.Count);
        Assert.Equal(jobs, all.Distinct().Count());
    }

    [Fact]
    public async Task Expired_lease_of_a_dead_worker_is_taken_over_and_the_dead_worker_can_no_longer_change_the_job()
    {
        var queue = Queue();
        string id = await queue.EnqueueAsync(TextJob());
        var dead = (await queue.TryLeaseAsync("dead", Lease))!;

        _time.Advance(Lease / 2);
        Assert.Null(await queue.TryLeaseAsync("alive", Lease));
        _time.Advance(Lease);
        var taken = await queue.TryLeaseAsync("alive", Lease);

        Assert.NotNull(taken);
        Assert.Equal(id, taken.JobId);
        Assert.Equal(2, taken.Attempt);
        Assert.False(await queue.HeartbeatAsync(dead, Lease));
        Assert.False(await queue.CompleteAsync(dead, new IngestJobResult(1, 0, 0, 0, [])));
        Assert.False(await queue.FailAsync(dead, "late"));
        Assert.True(await queue.CompleteAsync(taken, new IngestJobResult(0, 1, 0, 0, [])));
        Assert.Equal(1, (await queue.GetAsync(id))!.Unchanged);
    }

    [Fact]
    public async Task Heartbeat_keeps_the_lease()
    {
        var queue = Queue();
        await queue.EnqueueAsync(TextJob());
        var lease = (await queue.TryLeaseAsync("w1", Lease))!;

        for (int i = 0; i < 3; i++)
        {
            _time.Advance(Lease * 0.8);
            Assert.True(await queue.HeartbeatAsync(lease, Lease));
            Assert.Null(await queue.TryLeaseAsync("w2", Lease));
        }

        _time.Advance(Lease * 1.1);
        Assert.NotNull(await queue.TryLeaseAsync("w2", Lease));
    }

    [Fact]
    public async Task Failed_attempts_are_retried_after_a_growing_backoff_then_dead_lettered_with_the_reason()
    {
        var queue = Queue(new IngestJobOptions { MaxAttempts = 3, BackoffSeconds = 10 });
        string id = await queue.EnqueueAsync(TextJob());

        for (int attempt = 1; attempt <= 2; attempt++)
        {
            var lease = (await queue.TryLeaseAsync("w", Lease))!;
            Assert.Equal(attempt, lease.Attempt);
            DateTimeOffset failedAt = _time.GetUtcNow();
            Assert.True(await queue.FailAsync(lease, $"store down {attempt}"));

            var job = (await queue.GetAsync(id))!;
            Assert.Equal(IngestJobStatus.Queued, job.Status);
            // Backoff 10 s · 2^(attempt-1), jittered within its upper half.
            var full = TimeSpan.FromSeconds(10 * Math.Pow(2, attempt - 1));
            Assert.InRange(job.NextAttemptAt!.Value, failedAt + full / 2, failedAt + full);
            Assert.Null(await queue.TryLeaseAsync("w", Lease));
            _time.Advance(full);
        }

        var last = (await queue.TryLeaseAsync("w", Lease))!;
        Assert.Equal(3, last.Attempt);
        Assert.True(await queue.FailAsync(last, "store down 3"));

        var dead = (await queue.GetAsync(id))!;
        Assert.Equal(IngestJobStatus.DeadLettered, dead.Status);
        Assert.Equal(["attempt 1: store down 1", "attempt 2: store down 2", "attempt 3: store down 3"], dead.Errors);
        Assert.Equal(0, await queue.CountPendingAsync());
        _time.Advance(TimeSpan.FromDays(1));
        Assert.Null(await queue.TryLeaseAsync("w", Lease));
    }

    [Fact]
    public async Task Job_whose_worker_keeps_dying_is_dead_lettered_once_its_attempts_are_used_up()
    {
        var queue = Queue(new IngestJobOptions { MaxAttempts = 2 });
        string id = await queue.EnqueueAsync(TextJob());
        for (int attempt = 1; attempt <= 2; attempt++)
        {
            Assert.NotNull(await queue.TryLeaseAsync($"w{attempt}", Lease));
            _time.Advance(Lease * 2);
        }

        Assert.Null(await queue.TryLeaseAsync("w3", Lease));
        var job = (await queue.GetAsync(id))!;
        Assert.Equal(IngestJobStatus.DeadLettered, job.Status);
        Assert.Contains("lease expired", Assert.Single(job.Errors));
    }

    [Fact]
    public async Task Released_job_is_leasable_at_once_and_the_attempt_is_not_counted()
    {
        var queue = Queue();
        string id = await queue.EnqueueAsync(TextJob());
        var lease = (await queue.TryLeaseAsync("stopping", Lease))!;

        Assert.True(await queue.ReleaseAsync(lease));

        Assert.Equal((IngestJobStatus.Queued, 0), ((await queue.GetAsync(id))!.Status, (await queue.GetAsync(id))!.Attempts));
        var again = await queue.TryLeaseAsync("other", Lease);
        Assert.Equal(1, again!.Attempt);
    }

    [Fact]
    public async Task Jobs_survive_a_restart_and_are_read_back_in_one_query()
    {
        string a = await Queue().EnqueueAsync(TextJob("upload://a"));
        string b = await Queue().EnqueueAsync(TextJob("upload://b"));
        SqliteConnection.ClearAllPools();

        var reopened = Queue();
        var jobs = await reopened.GetManyAsync([a, b, "no-such-job"]);

        Assert.Equal(new[] { a, b }.Order(), jobs.Select(j => j.Id).Order());
        Assert.Null(await reopened.GetAsync("no-such-job"));
        Assert.Equal(2, await reopened.CountPendingAsync());
    }

    [Theory]
    [InlineData(0, 0, "at least one path or text")]
    [InlineData(1, 0, "path is empty")]
    [InlineData(0, 1, "'upload://e' of the ingest job is empty")]
    public async Task Invalid_request_is_rejected_naming_the_problem(int emptyPaths, int emptyTexts, string message)
    {
        var request = new IngestJobRequest(
            Enumerable.Repeat(" ", emptyPaths).ToList(),
            Enumerable.Repeat(new IngestTextItem("upload://e", ""), emptyTexts).ToList(), []);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => Queue().EnqueueAsync(request));

        Assert.Contains(message, e.Message);
        Assert.Equal(0, await Queue().CountPendingAsync());
    }

    [Fact]
    public void Options_validator_names_the_key_and_the_rule()
    {
        var result = new IngestJobOptionsValidator().Validate(null, new IngestJobOptions { LeaseSeconds = 10, HeartbeatSeconds = 10, MaxAttempts = 0 });

        Assert.True(result.Failed);
        Assert.Contains("Jobs:HeartbeatSeconds (10) must be positive and less than Jobs:LeaseSeconds (10)", result.FailureMessage);
        Assert.Contains("Jobs:MaxAttempts (0)", result.FailureMessage);
        Assert.True(new IngestJobOptionsValidator().Validate(null, new IngestJobOptions()).Succeeded);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }
}
