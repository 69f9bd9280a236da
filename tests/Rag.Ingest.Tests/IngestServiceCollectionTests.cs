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
