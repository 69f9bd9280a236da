using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Embedded;

namespace Rag.Retrieval.Tests.Embedded;

public sealed class EmbeddedStoreRegistrationTests
{
    [Fact]
    public async Task Store_section_configures_the_registered_store()
    {
        var directory = Scratch.Path("store-");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:DataDirectory"] = directory,
            ["Store:FileName"] = "custom.db",
        }).Build();
        var provider = new ServiceCollection().AddEmbeddedDocumentStore(configuration).BuildServiceProvider();
        try
        {
            var store = provider.GetRequiredService<IDocumentStore>();
            Assert.Same(provider.GetRequiredService<SqliteDocumentStore>(), store);
            Assert.True(await store.PingAsync());
            Assert.True(File.Exists(Path.Combine(directory, "custom.db")));
        }
        finally
        {
            await provider.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Invalid_options_name_the_setting()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new EmbeddedStoreOptions { CandidateMultiplier = 0 });
        var error = Assert.Throws<ArgumentException>(() => new SqliteDocumentStore(options));
        Assert.Contains("Store:CandidateMultiplier", error.Message);
    }
}
