using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rag.Retrieval.Embeddings;

namespace Rag.Retrieval.Tests;

public sealed class BertRegistrationTests
{
    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public async Task Embeddings_section_configures_the_bert_generator()
    {
        var configuration = Configuration(("Embeddings:ModelDirectory", BertFixture.ModelDirectory), ("Embeddings:Pooling", "cls"));
        await using var services = new ServiceCollection().AddBertEmbeddingGenerator(configuration).BuildServiceProvider();

        var generator = services.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        var c = BertFixture.Cases[0];
        BertEncoderTests.AssertClose(c.Cls, (await generator.GenerateVectorAsync(c.Text)).ToArray(), c.Text);
    }
}
