using Rag.Generator.Generation;
using Rag.Generator.Checkpoints;
using Rag.Generator.Model;
using static TorchSharp.torch;

namespace Rag.Generator.Tests;

public class Rwkv7ConfigTests
{
    private static Dictionary<string, Tensor> FixtureWeights() => SafeTensors.Load(TestData.Path("rwkv7", "rwkv7-tiny-a.safetensors"));

    [Fact]
    public void Shape_is_inferred_from_the_weights()
    {
        var config = Rwkv7Config.Infer(FixtureWeights(), "fixture");

        // The numbers the fixture was generated with (tests/data/rwkv7/rwkv7-tiny-a.json).
        Assert.Equal(3, config.LayerCount);
        Assert.Equal(128, config.EmbeddingSize);
        Assert.Equal(64, config.HeadSize);
        Assert.Equal(2, config.HeadCount);
        Assert.Equal(1024, config.VocabSize);
        Assert.Equal(512, config.FfnSize);
        Assert.Equal((16, 16, 8, 32), (config.DecayLoraRank, config.LearningRateLoraRank, config.ValueLoraRank, config.GateLoraRank));
    }

    [Fact]
    public void Parameter_count_is_the_size_of_every_used_tensor()
    {
        var weights = FixtureWeights();
        var config = Rwkv7Config.Infer(weights, "fixture");
        // The fixture also carries tensors the model never reads (ln0 of later blocks, layer 0's value LoRA).
        var unused = weights.Keys.Where(k => k is "blocks.0.att.v0" or "blocks.0.att.v1" or "blocks.0.att.v2" || (k.Contains(".ln0.") && !k.StartsWith("blocks.0.")));
        long expected = weights.Where(p => !unused.Contains(p.Key)).Sum(p => p.Value.numel());
        Assert.Equal(expected, config.ParameterCount);
    }

    [Theory]
    [InlineData("0.1b", 0.18e9, 0.20e9)]
    [InlineData("0.4b", 0.44e9, 0.46e9)]
    [InlineData("1.5b", 1.5e9, 1.6e9)]
    [InlineData("2.9b", 2.9e9, 3.0e9)]
    public void Published_shapes_have_their_advertised_size(string name, double atLeast, double atMost)
    {
        var config = Rwkv7Config.Published[name];
        Assert.InRange(config.ParameterCount, atLeast, atMost);
        Assert.Equal(64, config.HeadSize);
        Assert.Equal(65536, config.VocabSize);
    }

    [Fact]
    public void Missing_key_is_named()
    {
        var weights = FixtureWeights();
        weights.Remove("blocks.2.att.k_a");
        var e = Assert.Throws<CheckpointFormatException>(() => Rwkv7Config.Infer(weights, "my-model.pth"));
        Assert.Contains("my-model.pth", e.Message);
        Assert.Contains("missing key 'blocks.2.att.k_a'", e.Message);
    }

    [Fact]
    public void Misshaped_key_is_named_with_both_shapes()
    {
        var weights = FixtureWeights();
        weights["blocks.1.att.key.weight"] = zeros(128, 64);
        var e = Assert.Throws<CheckpointFormatException>(() => Rwkv7Config.Infer(weights, "my-model.pth"));
        Assert.Contains("key 'blocks.1.att.key.weight' has shape [128, 64], expected [128, 128]", e.Message);
    }

    [Fact]
    public void Head_size_that_does_not_divide_the_embedding_is_rejected()
    {
        var weights = FixtureWeights();
        weights["blocks.0.att.r_k"] = zeros(3, 64);
        var e = Assert.Throws<CheckpointFormatException>(() => Rwkv7Config.Infer(weights, "my-model.pth"));
        Assert.Contains("blocks.0.att.r_k", e.Message);
    }

    [Fact]
    public void Integer_weights_are_rejected()
    {
        var weights = FixtureWeights();
        weights["ln_out.bias"] = zeros([128], ScalarType.Int64);
        var e = Assert.Throws<CheckpointFormatException>(() => Rwkv7Config.Infer(weights, "my-model.pth"));
        Assert.Contains("key 'ln_out.bias' has dtype Int64", e.Message);
    }

    [Fact]
    public void Missing_key_in_a_file_names_the_file()
    {
        var weights = FixtureWeights();
        weights.Remove("head.weight");
        var path = CheckpointFiles.WriteSafeTensors(weights);
        var e = Assert.Throws<CheckpointFormatException>(() => Rwkv7Model.Load(path, new GeneratorOptions()));
        Assert.Contains(path, e.Message);
        Assert.Contains("missing key 'head.weight'", e.Message);
    }
}
