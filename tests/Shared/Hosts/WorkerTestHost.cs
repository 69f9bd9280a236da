using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rag.Ingest.Jobs;
using Rag.Orchestrator.Composition;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Tests;

/// <summary>The real service graph (embedded store, job queue) over a temporary data directory, with fast job timings.</summary>
internal sealed class WorkerTestHost : IAsyncDisposable
{
    /// <param name="settings">Added to (or overriding) the defaults, e.g. another store provider.</param>
    public WorkerTestHost(IEmbeddingGenerator<string, Embedding<float>>? embedder = null, double leaseSeconds = 5,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        Configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:DataDirectory"] = Directory,
            ["Jobs:LeaseSeconds"] = leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Jobs:HeartbeatSeconds"] = "0.05",
            ["Jobs:PollSeconds"] = "0.02",
            ["Jobs:BackoffSeconds"] = "0.01",
        }).AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton(Configuration).AddRag(Configuration);
        if (embedder is not null) services.AddSingleton(embedder);
        Services = services.BuildServiceProvider();
    }

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"rag-worker-test-{Guid.NewGuid():N}");

    public IConfiguration Configuration { get; }

    public ServiceProvider Services { get; }

    public IIngestJobQueue Queue => Services.GetRequiredService<IIngestJobQueue>();

    public IDocumentStore Store => Services.GetRequiredService<IDocumentStore>();

    /// <summary>Polls until the job has finished; the limit only keeps a broken worker from hanging the suite.</summary>
    public static async Task<IngestJobInfo> WaitUntilFinishedAsync(IIngestJobQueue queue, string jobId)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var job = await queue.GetAsync(jobId, limit.Token);
            if (job!.IsFinished) return job;
            await Task.Delay(20, limit.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>
/// Small deterministic vectors; can fail its first call (a flaky embedding service) or block on texts containing
/// "BLOCK" until cancelled (a worker busy when it is killed).
/// </summary>
internal sealed class ScriptedEmbedder : IEmbeddingGenerator<string, Embedding<float>>
{
    private int _calls;

    public int FailFirstCalls { get; init; }

    public bool Block { get; set; }

    public TaskCompletionSource Blocked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        if (Interlocked.Increment(ref _calls) <= FailFirstCalls)
            throw new HttpRequestException("embedding service unavailable");
        var texts = values.ToList();
        if (Block && texts.Any(t => t.Contains("BLOCK", StringComparison.Ordinal)))
        {
            Blocked.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        return new GeneratedEmbeddings<Embedding<float>>(texts.Select(t => new Embedding<float>(new float[] { t.Length, 1, t.Length % 7, 2 })));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
