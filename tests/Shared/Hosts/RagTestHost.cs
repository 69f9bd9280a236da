using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rag.Ingest.Pipeline;
using Rag.Orchestrator.Composition;

namespace Rag.Orchestrator.Tests;

/// <summary>The real service graph over a temporary data directory, with the repo's samples ingested.</summary>
internal sealed class RagTestHost : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"rag-test-{Guid.NewGuid():N}");

    public RagTestHost(IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?> { ["Store:DataDirectory"] = _directory };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) values[key] = value;
        Services = RagServices.Build(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
    }

    public ServiceProvider Services { get; }

    public static string Samples => Path.Combine(Directory.GetParent(TestData.Root)!.Parent!.FullName, "samples", "documents");

    public async Task<IngestSummary> IngestSamplesAsync() =>
        await Services.GetRequiredService<IngestPipeline>().IngestAsync([Samples]);

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }
}
