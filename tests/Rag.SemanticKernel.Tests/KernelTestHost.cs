using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Rag.Ingest.Pipeline;
using Rag.Orchestrator.Plugins;

namespace Rag.Orchestrator.Tests;

/// <summary>
/// A kernel from <see cref="RagKernelExtensions.AddRagKernel"/> over a temporary embedded store, optionally with the
/// tiny RWKV-7 fixture as generator (greedy, a few tokens) so that generation is deterministic and fast.
/// </summary>
internal sealed class KernelTestHost : IAsyncDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"rag-kernel-test-{Guid.NewGuid():N}");

    public KernelTestHost(bool withGenerator = false, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        Directory.CreateDirectory(_directory);
        var settings = new Dictionary<string, string?> { ["Store:DataDirectory"] = _directory };
        if (withGenerator)
        {
            settings["Generator:ModelPath"] = TinyRwkv.ModelPath;
            settings["Generator:VocabPath"] = TinyRwkv.VocabPath;
            settings["Generator:Temperature"] = "0";
            settings["Generator:MaxTokens"] = "8";
            settings["Generator:ChunkLength"] = "64";
        }
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>()) settings[key] = value;
        Configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddRagKernel(Configuration);
        Services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        Kernel = Services.GetRequiredService<Kernel>();
    }

    public IConfiguration Configuration { get; }

    public ServiceProvider Services { get; }

    public Kernel Kernel { get; }

    public async Task IngestSamplesAsync()
    {
        var summary = await Services.GetRequiredService<IngestPipeline>().IngestAsync([RagTestHost.Samples]);
        Assert.Empty(summary.Failed);
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
