using Rag.Generator.Checkpoints;
using Rag.Retrieval.Embeddings;
using TorchSharp;

namespace Rag.Retrieval.Tests;

public sealed class BertEncoderTests
{
    private const float Tolerance = 1e-4f;

    private static BertEncoder Load(Action<BertEmbeddingOptions>? configure = null, string? directory = null)
    {
        var options = new BertEmbeddingOptions { ModelDirectory = directory ?? BertFixture.ModelDirectory };
        configure?.Invoke(options);
        return BertEncoder.Load(options);
    }

    [Fact]
    public void Tokenize_matches_hugging_face_input_ids()
    {
        using var encoder = Load();
        foreach (var c in BertFixture.Cases)
            Assert.Equal(c.InputIds, encoder.Tokenize(c.Text));
    }

    [Theory]
    [InlineData(32)] // every case in one padded batch
    [InlineData(2)]  // several length-sorted batches, results put back in input order
    public void Mean_pooling_matches_fixture(int batchSize)
    {
        using var encoder = Load(o => o.BatchSize = batchSize);
        var (vectors, tokens) = encoder.Encode(BertFixture.Cases.Select(c => c.Text).ToArray());
        for (var i = 0; i < vectors.Length; i++)
            AssertClose(BertFixture.Cases[i].Mean, vectors[i], BertFixture.Cases[i].Text);
        Assert.Equal(BertFixture.Cases.Sum(c => c.InputIds.Length), tokens);
    }

    [Fact]
    public void Cls_pooling_matches_fixture()
    {
        using var encoder = Load(o => o.Pooling = EmbeddingPooling.Cls);
        var (vectors, _) = encoder.Encode(BertFixture.Cases.Select(c => c.Text).ToArray());
        for (var i = 0; i < vectors.Length; i++)
            AssertClose(BertFixture.Cases[i].Cls, vectors[i], BertFixture.Cases[i].Text);
    }

    [Fact]
    public void Without_normalisation_the_direction_is_unchanged_but_the_length_is_not_one()
    {
        using var encoder = Load(o => o.Normalize = false);
        var c = BertFixture.Cases[0];
        var raw = encoder.Encode([c.Text]).Vectors[0];
        var norm = MathF.Sqrt(raw.Sum(x => x * x));
        Assert.True(Math.Abs(norm - 1) > 1e-3, $"expected an unnormalised vector, got norm {norm}");
        AssertClose(c.Mean, raw.Select(x => x / norm).ToArray(), c.Text);
    }

    [Fact]
    public void Long_input_is_truncated_keeping_cls_and_sep()
    {
        using var encoder = Load(o => o.MaxSequenceLength = 8);
        var c = BertFixture.Cases.First(x => x.InputIds.Length > 8);
        int[] expected = [.. c.InputIds[..7], c.InputIds[^1]];
        Assert.Equal(expected, encoder.Tokenize(c.Text));
        Assert.Equal(8, encoder.MaxSequenceLength);
    }

    [Fact]
    public void Sequence_length_is_capped_by_max_position_embeddings()
    {
        using var encoder = Load(o => o.MaxSequenceLength = 512);
        Assert.Equal(128, encoder.MaxSequenceLength); // config.json: max_position_embeddings = 128
        var ids = encoder.Tokenize(string.Join(' ', Enumerable.Repeat("paris", 300)));
        Assert.Equal(128, ids.Length);
    }

    [Fact]
    public void Keys_with_a_bert_prefix_load_the_same_model()
    {
        using var copy = BertFixture.CopyModel(BertFixture.RenameKeys(k => "bert." + k));
        using var encoder = Load(directory: copy.Directory);
        var c = BertFixture.Cases[1];
        AssertClose(c.Mean, encoder.Encode([c.Text]).Vectors[0], c.Text);
    }

    [Fact]
    public void Missing_model_directory_is_named()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-bert-" + Guid.NewGuid());
        var e = Assert.Throws<DirectoryNotFoundException>(() => Load(directory: missing));
        Assert.Contains(missing, e.Message);
        Assert.Contains("Embeddings:ModelDirectory", e.Message);
    }

    [Theory]
    [InlineData("vocab.txt")]
    [InlineData("config.json")]
    [InlineData("model.safetensors")]
    public void Missing_file_is_named(string file)
    {
        using var copy = BertFixture.CopyModel(omit: file);
        var e = Assert.Throws<FileNotFoundException>(() => Load(directory: copy.Directory));
        Assert.Contains(Path.Combine(copy.Directory, file), e.Message);
    }

    [Fact]
    public void Missing_tensor_is_named()
    {
        const string key = "encoder.layer.1.output.dense.bias";
        using var copy = BertFixture.CopyModel(header => header.Remove(key));
        var e = Assert.Throws<CheckpointFormatException>(() => Load(directory: copy.Directory));
        Assert.Contains($"missing tensor '{key}'", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void Mis_shaped_tensor_is_named_with_both_shapes()
    {
        const string key = "encoder.layer.1.attention.self.query.weight";
        // Same element count (64·64 = 32·128), so only the shape check can catch it.
        using var copy = BertFixture.CopyModel(header => header[key]!["shape"] = new System.Text.Json.Nodes.JsonArray(32, 128));
        var e = Assert.Throws<CheckpointFormatException>(() => Load(directory: copy.Directory));
        Assert.Contains($"'{key}' has shape [32, 128] but config.json requires [64, 64]", e.Message);
    }

    [Fact]
    public void Checkpoint_without_bert_embeddings_is_rejected()
    {
        using var copy = BertFixture.CopyModel(BertFixture.RenameKeys(k => "roberta." + k));
        var e = Assert.Throws<CheckpointFormatException>(() => Load(directory: copy.Directory));
        Assert.Contains("embeddings.word_embeddings.weight", e.Message);
    }

    [Fact]
    public void Unknown_device_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Load(o => o.Device = "tpu"));
        Assert.Contains("'tpu'", e.Message);
    }

    [SkippableFact]
    public void Cuda_device_without_cuda_is_a_clear_error()
    {
        Skip.If(torch.cuda.is_available(), "CUDA is available here: the missing-CUDA error cannot be provoked");
        var e = Assert.Throws<InvalidOperationException>(() => Load(o => o.Device = "cuda"));
        Assert.Contains("CUDA is not available", e.Message);
    }

    [SkippableFact]
    public void Cuda_encoding_matches_fixture()
    {
        Skip.IfNot(torch.cuda.is_available(), "CUDA not available: GPU parity test skipped");
        using var encoder = Load(o => o.Device = "cuda");
        var (vectors, _) = encoder.Encode(BertFixture.Cases.Select(c => c.Text).ToArray());
        for (var i = 0; i < vectors.Length; i++)
            AssertClose(BertFixture.Cases[i].Mean, vectors[i], BertFixture.Cases[i].Text);
    }

    internal static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= Tolerance, $"'{what}': max |difference| {worst} exceeds {Tolerance}");
    }
}
