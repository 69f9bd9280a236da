using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Rag.Retrieval.Embeddings;

namespace Rag.Retrieval.Tests;

public sealed class BertEmbeddingGeneratorTests
{
    private static BertEmbeddingGenerator Create(string queryPrefix = "", string passagePrefix = "") =>
        new(Options.Create(new BertEmbeddingOptions
        {
            ModelDirectory = BertFixture.ModelDirectory,
            QueryPrefix = queryPrefix,
            PassagePrefix = passagePrefix,
        }));

    [Fact]
    public async Task Generates_one_fixture_embedding_per_input_in_order()
    {
        using IEmbeddingGenerator<string, Embedding<float>> generator = Create();
        var texts = BertFixture.Cases.Select(c => c.Text).Reverse().ToArray();
        var embeddings = await generator.GenerateAsync(texts);
        Assert.Equal(texts.Length, embeddings.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            var expected = BertFixture.Cases.Single(c => c.Text == texts[i]);
            BertEncoderTests.AssertClose(expected.Mean, embeddings[i].Vector.ToArray(), texts[i]);
        }
        Assert.Equal(BertFixture.Cases.Sum(c => c.InputIds.Length), embeddings.Usage?.InputTokenCount);
    }

    [Fact]
    public async Task Query_prefix_applies_only_to_queries()
    {
        // The fixture text "QUERY: vector database search?" is the query "vector database search?" with its prefix.
        var fixture = BertFixture.Cases.Single(c => c.Text.StartsWith("QUERY: ", StringComparison.Ordinal));
        var query = fixture.Text["QUERY: ".Length..];
        using var generator = Create(queryPrefix: "QUERY: ");

        var asQuery = await generator.GenerateVectorAsync(query, EmbeddingInputType.ForQuery());
        BertEncoderTests.AssertClose(fixture.Mean, asQuery.ToArray(), "as query");

        var asPassage = await generator.GenerateVectorAsync(query);
        Assert.False(fixture.Mean.Zip(asPassage.ToArray(), (e, a) => Math.Abs(e - a)).Max() <= 1e-4f,
            "a passage must not receive the query prefix");
    }

    [Fact]
    public async Task Passage_prefix_applies_to_passages()
    {
        var fixture = BertFixture.Cases.Single(c => c.Text.StartsWith("QUERY: ", StringComparison.Ordinal));
        using var generator = Create(passagePrefix: "QUERY: ");
        var vector = await generator.GenerateVectorAsync(fixture.Text["QUERY: ".Length..], EmbeddingInputType.ForPassage());
        BertEncoderTests.AssertClose(fixture.Mean, vector.ToArray(), "as passage");
    }

    [Fact]
    public async Task Unknown_input_type_is_rejected()
    {
        using var generator = Create();
        var options = new EmbeddingGenerationOptions { AdditionalProperties = new() { [EmbeddingInputType.PropertyName] = "document" } };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(["x"], options));
        Assert.Contains("'document'", e.Message);
    }

    [Fact]
    public async Task Requested_dimensions_must_match_the_model()
    {
        using var generator = Create();
        await Assert.ThrowsAsync<NotSupportedException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 32 }));
    }

    [Fact]
    public void Metadata_reports_model_and_dimensions()
    {
        using var generator = Create();
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        Assert.NotNull(metadata);
        Assert.Equal("bert-tiny", metadata.DefaultModelId);
        Assert.Equal(64, metadata.DefaultModelDimensions);
        Assert.Same(generator, generator.GetService<BertEmbeddingGenerator>());
        Assert.Null(generator.GetService<BertEmbeddingGenerator>(serviceKey: "other"));
    }
}
