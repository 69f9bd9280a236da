using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Rag.Ingest.Pipeline;
using Rag.Orchestrator.Api;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Tests;

/// <summary>The HTTP API on an in-memory test server over a temporary data directory.</summary>
public sealed class ApiTestHost : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = CreateJson();

    private readonly WebApplication _app;

    private ApiTestHost(WebApplication app, string directory, Uri? address)
    {
        _app = app;
        Directory = directory;
        Address = address;
        Client = address is null ? app.GetTestClient() : new HttpClient { BaseAddress = address };
    }

    public HttpClient Client { get; }

    /// <summary>The loopback address a real client (a browser, node) reaches; null on the in-memory test server.</summary>
    public Uri? Address { get; }

    public string Directory { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="listen">Listen on a free loopback port (Kestrel) instead of the in-memory test server.</param>
    public static async Task<ApiTestHost> StartAsync(IDictionary<string, string?>? settings = null, bool ingestSamples = false, bool listen = false)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"rag-api-test-{Guid.NewGuid():N}");
        var values = new Dictionary<string, string?>
        {
            ["Store:DataDirectory"] = directory,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Error",
            ["Jobs:PollSeconds"] = "0.05",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) values[key] = value;
        var builder = RagApi.CreateBuilder([], settings: values);
        if (listen) builder.WebHost.UseUrls("http://127.0.0.1:0");
        else builder.WebHost.UseTestServer();
        var app = RagApi.Build(builder);
        await app.StartAsync();
        var address = listen ? new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) : null;
        var host = new ApiTestHost(app, directory, address);
        if (ingestSamples)
        {
            var summary = await app.Services.GetRequiredService<IngestPipeline>().IngestAsync([RagTestHost.Samples]);
            Assert.Empty(summary.Failed);
        }
        return host;
    }

    /// <summary>Settings for the tiny RWKV-7 fixture generator (greedy, a few tokens, small k).</summary>
    public static Dictionary<string, string?> TinyGenerator(int maxTokens = 12) => new()
    {
        ["Generator:ModelPath"] = TinyRwkv.ModelPath,
        ["Generator:VocabPath"] = TinyRwkv.VocabPath,
        ["Generator:MaxTokens"] = maxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Generator:Temperature"] = "0",
        ["Ask:DefaultK"] = "2",
    };

    public Task<HttpResponseMessage> PostJsonAsync(string path, object body) => Client.PostAsJsonAsync(path, body, Json);

    /// <summary>Polls GET /v1/jobs/{id} until the hosted worker has finished the job.</summary>
    public async Task<JsonElement> WaitForJobAsync(string jobId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var job = await Client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{jobId}");
            var status = job.GetProperty("status").GetString();
            if (status is not ("queued" or "running") || DateTime.UtcNow > deadline) return job;
            await Task.Delay(50);
        }
    }

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
