using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Qdrant;

namespace Rag.Retrieval.Tests;

public sealed class QdrantRegistrationTests
{
    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public async Task Qdrant_section_configures_the_document_store()
    {
        var configuration = Configuration(("Qdrant:Url", "http://qdrant.test:6333"), ("Qdrant:VectorSize", "384"), ("Qdrant:Collection", "docs"));
        await using var services = new ServiceCollection().AddQdrantDocumentStore(configuration).BuildServiceProvider();

        Assert.IsType<QdrantDocumentStore>(services.GetRequiredService<IDocumentStore>());
        Assert.Same(services.GetRequiredService<QdrantDocumentStore>(), services.GetRequiredService<IDocumentStore>());
    }
}
