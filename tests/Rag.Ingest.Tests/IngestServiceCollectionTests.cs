using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rag.Ingest.Chunking;
using Rag.Ingest.Pipeline;
using Rag.Ingest.Tests.Pipeline;
using Rag.Retrieval.Abstractions;

namespace Rag.Ingest.Tests;

public class IngestServiceCollectionTests
{
    [Fact]
    public async Task Configuration_FlowsIntoTheChunker_AndThePipelineResolves()
    {
        await using ServiceProvider services = BuildServices(("Ingest:ChunkTokens", "100"), ("Ingest:ChunkOverlapTokens", "10"));

        TokenChunker chunker = services.GetRequiredService<TokenChunker>();

        Assert.Equal((100, 10), (chunker.ChunkTokens, chunker.OverlapTokens));
        Assert.NotNull(services.GetRequiredService<IngestPipeline>());
    }

    [Fact]
    public async Task InvalidSection_IsRejected_NamingTheKeyAndValue()
    {
        await using ServiceProvider services = BuildServices(("Ingest:ChunkTokens", "64"), ("Ingest:ChunkOverlapTokens", "64"));

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<IngestOptions>>().Value);

        Assert.Contains("Ingest:ChunkOverlapTokens (64) must be at least 0 and less than Ingest:ChunkTokens (64)", error.Message);
    }

    [Fact]
    public async Task Roots_AreBound_AndAnEmptyOrMissingRoot_IsRejected_NamingItsKey()
    {
        using var folder = new TempFolder();
        string missing = Path.Combine(folder.Path, "typo");
        await using ServiceProvider good = BuildServices(("Ingest:Roots:0", folder.Path));
        await using ServiceProvider bad = BuildServices(("Ingest:Roots:0", folder.Path), ("Ingest:Roots:1", " "), ("Ingest:Roots:2", missing));

        Assert.Equal([folder.Path], good.GetRequiredService<IOptions<IngestOptions>>().Value.Roots);
        var error = Assert.Throws<OptionsValidationException>(() => bad.GetRequiredService<IOptions<IngestOptions>>().Value);
        Assert.Equal(["Ingest:Roots:1 is empty; name a folder ingestion may read.", $"Ingest:Roots:2 ('{missing}') must be an existing folder."],
            error.Failures);
    }

    private static ServiceProvider BuildServices(params (string Key, string Value)[] settings)
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        return new ServiceCollection()
            .AddSingleton(configuration)
            .AddLogging()
            .AddSingleton<IDocumentStore, InMemoryDocumentStore>()
            .AddRagIngest()
            .BuildServiceProvider();
    }
}
