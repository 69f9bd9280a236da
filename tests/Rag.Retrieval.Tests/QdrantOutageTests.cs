using System.Diagnostics;
using Microsoft.Extensions.Options;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Qdrant;

namespace Rag.Retrieval.Tests;

/// <summary>
/// The Qdrant store's resilience pipeline over real sockets: a loopback proxy in front of the in-memory Qdrant (and of
/// a live one when QDRANT_URL is set) drops or delays connections; writes are retried with backoff, the circuit opens
/// and closes, and afterwards the endpoint holds each document once with exactly its chunks.
/// </summary>
public sealed class QdrantOutageTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static DocumentInput Document(string source, int chunks = 3) => new(
        source, "hash-" + source, "Title", ["outage"],
        Enumerable.Range(0, chunks).Select(i => new ChunkInput(i, $"chunk {i} of {source}", 4, i * 10, i * 10 + 9, new float[] { i, 1, 0 })).ToArray());

    private static QdrantDocumentStore Store(OutageEndpoint endpoint, Uri url, Action<QdrantOptions> configure)
    {
        var options = new QdrantOptions { Url = url.ToString(), ApiKey = endpoint.ApiKey, Collection = endpoint.Collection, VectorSize = 3 };
        configure(options);
        return new QdrantDocumentStore(new HttpClient(), Options.Create(options));
    }

    /// <summary>An endpoint, the proxy in front of it and a store talking through the proxy (fast retries unless <paramref name="configure"/> says otherwise).</summary>
    private sealed class Rig(OutageEndpoint endpoint, LoopbackTcpProxy proxy, QdrantDocumentStore store) : IAsyncDisposable
    {
        public OutageEndpoint Endpoint => endpoint;
        public LoopbackTcpProxy Proxy => proxy;
        public QdrantDocumentStore Store => store;

        public static Rig Start(string kind, Action<QdrantOptions> configure)
        {
            var endpoint = OutageEndpoint.Start(kind);
            var proxy = new LoopbackTcpProxy(endpoint.Url);
            return new Rig(endpoint, proxy, QdrantOutageTests.Store(endpoint, proxy.Url, o =>
            {
                o.MaxRetryAttempts = 10;
                o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
                configure(o);
            }));
        }

        public async ValueTask DisposeAsync()
        {
            await store.DisposeAsync();
            await proxy.DisposeAsync();
            await endpoint.DisposeAsync();
        }
    }

    /// <summary>What the endpoint holds, read past the proxy: the document once, with exactly its chunks.</summary>
    private static async Task AssertStoredOnceAsync(OutageEndpoint endpoint, params DocumentInput[] documents)
    {
        await using var direct = Store(endpoint, endpoint.Url, _ => { });
        var listed = await direct.ListDocumentsAsync(0, 100);
        Assert.Equal(documents.Select(d => d.Source).Order(StringComparer.Ordinal), listed.Select(d => d.Source));
        foreach (var document in documents)
        {
            var info = listed.Single(d => d.Source == document.Source);
            Assert.Equal(document.Chunks.Count, info.ChunkCount);
            Assert.Equal(document.Chunks.Select(c => c.Text), (await direct.GetChunksAsync(info.Id)).Select(c => c.Text));
        }
        // No point beyond the records and their chunks: no duplicates, no leftovers of failed attempts.
        if (endpoint.Server is { } server)
            Assert.Equal(documents.Sum(d => d.Chunks.Count + 1), server.Points.Count);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Patience, $"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(OutageEndpoint.Kinds), MemberType = typeof(OutageEndpoint))]
    public async Task Dropped_connections_are_retried_with_backoff_until_the_endpoint_is_back(string kind)
    {
        await using var rig = Rig.Start(kind, o => o.CircuitMinimumThroughput = 1000); // this test is about retries; the circuit has its own
        var (endpoint, proxy, store) = (rig.Endpoint, rig.Proxy, rig.Store);
        var document = Document("docs/dropped.md");

        proxy.Drop();
        var upsert = store.UpsertAsync(document);
        await WaitUntilAsync(() => proxy.Connections >= 3, "three attempts were refused");
        Assert.False(upsert.IsCompleted);
        proxy.Restore();

        Assert.Equal(UpsertOutcome.Added, await upsert.WaitAsync(Patience));
        await AssertStoredOnceAsync(endpoint, document);
    }

    [SkippableTheory]
    [MemberData(nameof(OutageEndpoint.Kinds), MemberType = typeof(OutageEndpoint))]
    public async Task A_connection_dropped_mid_write_is_retried_without_duplicating_points(string kind)
    {
        await using var rig = Rig.Start(kind, o => o.UpsertBatchSize = 1); // several requests per document, so the outage falls between them
        var (endpoint, proxy, store) = (rig.Endpoint, rig.Proxy, rig.Store);
        var first = Document("docs/first.md", chunks: 4);
        var second = Document("docs/second.md", chunks: 4);
        Assert.Equal(UpsertOutcome.Added, await store.UpsertAsync(first));

        // Answers are late, so the outage hits while the second document's requests are in flight.
        proxy.Delay = TimeSpan.FromMilliseconds(50);
        var upsert = store.UpsertAsync(second);
        await Task.Delay(120);
        Assert.False(upsert.IsCompleted);
        proxy.Drop();
        int beforeOutage = proxy.Connections;
        await Task.Delay(200);
        proxy.Delay = TimeSpan.Zero;
        proxy.Restore();

        Assert.Equal(UpsertOutcome.Added, await upsert.WaitAsync(Patience));
        Assert.True(proxy.Connections > beforeOutage, "the write never had to reconnect");
        Assert.Equal(UpsertOutcome.Unchanged, await store.UpsertAsync(first));
        await AssertStoredOnceAsync(endpoint, first, second);
    }

    [SkippableTheory]
    [MemberData(nameof(OutageEndpoint.Kinds), MemberType = typeof(OutageEndpoint))]
    public async Task Answers_later_than_the_attempt_timeout_are_abandoned_and_retried(string kind)
    {
        await using var rig = Rig.Start(kind, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMilliseconds(300);
            o.CircuitMinimumThroughput = 1000;
        });
        var (endpoint, proxy, store) = (rig.Endpoint, rig.Proxy, rig.Store);
        var document = Document("docs/slow.md");

        proxy.Delay = TimeSpan.FromSeconds(2);
        var upsert = store.UpsertAsync(document);
        // A timed-out attempt's connection is abandoned, so each retry opens a new one.
        await WaitUntilAsync(() => proxy.Connections >= 2, "the first attempt timed out and was retried");
        proxy.Delay = TimeSpan.Zero;

        Assert.Equal(UpsertOutcome.Added, await upsert.WaitAsync(Patience));
        // The abandoned attempts reach the endpoint late; the writes are idempotent, so they change nothing.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await AssertStoredOnceAsync(endpoint, document);
    }

    [SkippableTheory]
    [MemberData(nameof(OutageEndpoint.Kinds), MemberType = typeof(OutageEndpoint))]
    public async Task Circuit_opens_during_an_outage_fails_fast_and_closes_when_the_endpoint_is_back(string kind)
    {
        var breakDuration = TimeSpan.FromSeconds(2); // long enough that a stalled CI machine cannot see it end mid-check
        await using var rig = Rig.Start(kind, o =>
        {
            o.MaxRetryAttempts = 1;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
            o.CircuitMinimumThroughput = 2;
            o.CircuitFailureRatio = 0.5;
            o.CircuitBreakDuration = breakDuration;
        });
        var (endpoint, proxy, store) = (rig.Endpoint, rig.Proxy, rig.Store);

        proxy.Drop();
        QdrantException? failure = null;
        for (int call = 0; call < 10 && failure?.Message.Contains("circuit open", StringComparison.Ordinal) != true; call++)
            failure = await Assert.ThrowsAsync<QdrantException>(() => store.FindBySourceAsync("docs/any.md"));
        Assert.Contains("circuit open", failure!.Message);

        // Open: calls fail at once without touching the network.
        int attempts = proxy.Connections;
        var clock = Stopwatch.StartNew();
        var fast = await Assert.ThrowsAsync<QdrantException>(() => store.FindBySourceAsync("docs/any.md"));
        Assert.Contains("circuit open", fast.Message);
        Assert.Equal(attempts, proxy.Connections);
        Assert.True(clock.Elapsed < breakDuration, $"an open circuit answered after {clock.Elapsed}");

        // After the break a trial call goes through; its success closes the circuit and writes flow again.
        proxy.Restore();
        await Task.Delay(breakDuration + TimeSpan.FromMilliseconds(100));
        Assert.Null(await store.FindBySourceAsync("docs/any.md"));
        Assert.True(proxy.Connections > attempts);
        var document = Document("docs/after.md");
        Assert.Equal(UpsertOutcome.Added, await store.UpsertAsync(document));
        await AssertStoredOnceAsync(endpoint, document);
    }
}
