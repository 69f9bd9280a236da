using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Rag.Ingest.Jobs;
using Rag.Ingest.Pipeline;
using Rag.Orchestrator.Api;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Tests;

/// <summary>The HTTP API on an in-memory test server over a temporary data directory.</summary>
public sealed class ApiTestHost : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = CreateJson();

    private readonly WebApplication _app;

    private ApiTestHost(WebApplication app, string directory)
    {
        _app = app;
        Directory = directory;
        Client = app.GetTestClient();
    }

    public HttpClient Client { get; }

    public string Directory { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<ApiTestHost> StartAsync(IDictionary<string, string?>? settings = null, bool ingestSamples = false)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"rag-api-test-{Guid.NewGuid():N}");
        var values = new Dictionary<string, string?>
        {
            ["Store:DataDirectory"] = directory,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Error",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) values[key] = value;
        var builder = RagApi.CreateBuilder([], settings: values);
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton<IIngestJobQueue, ImmediateIngestJobQueue>();
        var app = RagApi.Build(builder);
        await app.StartAsync();
        var host = new ApiTestHost(app, directory);
        if (ingestSamples)
        {
            var summary = await app.Services.GetRequiredService<IngestPipeline>().IngestAsync([RagTestHost.Samples]);
            Assert.Empty(summary.Failed);
        }
        return host;
    }

    /// <summary>Settings for the tiny RWKV-7 fixture: its 1024-token vocabulary is the first 1024 lines of the World vocabulary.</summary>
    public static Dictionary<string, string?> TinyGenerator(string directory, int maxTokens = 12)
    {
        System.IO.Directory.CreateDirectory(directory);
        var vocab = Path.Combine(directory, "tiny-vocab.txt");
        File.WriteAllLines(vocab, File.ReadLines(TestData.Path("rwkv_vocab_v20230424.txt"))
            .Where(line => int.Parse(line[..line.IndexOf(' ')]) < 1024));
        return new Dictionary<string, string?>
        {
            ["Generator:ModelPath"] = TestData.Path("rwkv7", "rwkv7-tiny-a.pth"),
            ["Generator:VocabPath"] = vocab,
            ["Generator:MaxTokens"] = maxTokens.ToString(),
            ["Generator:Temperature"] = "0",
            ["Ask:DefaultK"] = "2",
        };
    }

    public Task<HttpResponseMessage> PostJsonAsync(string path, object body) => Client.PostAsJsonAsync(path, body, Json);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ApiJson.Configure(options);
        return options;
    }
}

/// <summary>
/// Test double of the durable queue (built on the `jobs` branch): runs the ingestion pipeline inside
/// EnqueueAsync, so a job is finished when its id comes back.
/// </summary>
internal sealed class ImmediateIngestJobQueue(IngestPipeline pipeline) : IIngestJobQueue
{
    private readonly Dictionary<string, IngestJobInfo> _jobs = [];

    public async Task<string> EnqueueAsync(IngestJobRequest request, CancellationToken cancellationToken = default)
    {
        var id = Guid.NewGuid().ToString("N");
        var outcomes = new List<UpsertOutcome>();
        var errors = new List<string>();
        foreach (var text in request.Texts)
            outcomes.Add(await pipeline.IngestTextAsync(text.Text, text.Source, text.Title, request.Tags, cancellationToken));
        if (request.Paths.Count > 0)
        {
            var summary = await pipeline.IngestAsync(request.Paths, request.Tags, cancellationToken: cancellationToken);
            outcomes.AddRange(summary.Added.Select(_ => UpsertOutcome.Added));
            outcomes.AddRange(summary.Unchanged.Select(_ => UpsertOutcome.Unchanged));
            outcomes.AddRange(summary.Replaced.Select(_ => UpsertOutcome.Replaced));
            errors.AddRange(summary.Failed.Select(f => $"{f.Path}: {f.Reason}"));
        }
        var now = DateTimeOffset.UtcNow;
        lock (_jobs)
            _jobs[id] = new IngestJobInfo(id, errors.Count == 0 ? IngestJobStatus.Succeeded : IngestJobStatus.Failed, 1, now, now,
                outcomes.Count(o => o == UpsertOutcome.Added), outcomes.Count(o => o == UpsertOutcome.Unchanged),
                outcomes.Count(o => o == UpsertOutcome.Replaced), errors.Count, errors);
        return id;
    }

    public Task<IngestJobInfo?> GetAsync(string jobId, CancellationToken cancellationToken = default)
    {
        lock (_jobs) return Task.FromResult(_jobs.GetValueOrDefault(jobId));
    }

    public Task<int> CountPendingAsync(CancellationToken cancellationToken = default) => Task.FromResult(0);
}
