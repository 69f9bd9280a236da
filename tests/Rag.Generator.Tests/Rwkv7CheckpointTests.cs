using Rag.Generator.Generation;
using Rag.Generator.Checkpoints;
using Rag.Generator.Model;
using static TorchSharp.torch;

namespace Rag.Generator.Tests;

/// <summary>
/// Which files load as x070 and which are refused: variants (7a, 7b), other layouts (flash-linear-attention / HF),
/// wrapper prefixes, keys the reference ignores, and a table with ln0 already folded in. Each derived fixture is
/// written from the tiny x070 fixture at test time.
/// </summary>
public class Rwkv7CheckpointTests
{
    private static Dictionary<string, Tensor> Fixture() => Checkpoint.Load(CheckpointFiles.FixturePth);

    private static string Write(Dictionary<string, Tensor> tensors)
    {
        var path = CheckpointFiles.WriteSafeTensors(tensors);
        foreach (var t in tensors.Values) t.Dispose();
        return path;
    }

    private static CheckpointFormatException Refused(string path) =>
        Assert.Throws<CheckpointFormatException>(() => Rwkv7Model.Load(path, new GeneratorOptions()));

    [Fact]
    public void A_7a_like_file_is_refused_with_the_variant_named()
    {
        var tensors = Fixture();
        tensors["blocks.0.ffn.s_emb.weight"] = zeros(1024, 32);
        tensors["blocks.0.ffn.s_emb_x.weight"] = zeros(32, 128);
        tensors["blocks.0.ffn.s1"] = zeros(128, 8);
        var path = Write(tensors);

        var e = Refused(path);
        Assert.Contains(path, e.Message);
        Assert.Contains("this is an RWKV-7a checkpoint", e.Message);
        Assert.Contains("Rag runs x070", e.Message);
    }

    [Fact]
    public void A_7b_like_file_is_refused_with_the_variant_named()
    {
        var tensors = Fixture();
        tensors["blocks.1.qkv.k_emb.weight"] = zeros(1024, 32);
        var e = Refused(Write(tensors));
        Assert.Contains("this is an RWKV-7b checkpoint", e.Message);
        Assert.Contains("'blocks.1.qkv.k_emb.weight'", e.Message);
    }

    [Fact]
    public void Unknown_keys_are_refused_by_name()
    {
        var tensors = Fixture();
        tensors["blocks.1.att.extra"] = zeros(4);
        tensors["optimizer.step"] = zeros(1);
        var e = Refused(Write(tensors));
        Assert.Contains("2 key(s) that RWKV-7 x070 does not use ('blocks.1.att.extra', 'optimizer.step')", e.Message);
    }

    [Fact]
    public void A_flash_linear_attention_file_is_refused_with_a_message_that_says_so()
    {
        var tensors = Fixture().ToDictionary(
            e => e.Key switch
            {
                "emb.weight" => "model.embeddings.weight",
                "head.weight" => "lm_head.weight",
                var k => "model." + k.Replace("blocks.", "layers.", StringComparison.Ordinal).Replace(".att.receptance.", ".attn.r_proj.", StringComparison.Ordinal),
            },
            e => e.Value);
        var e = Refused(Write(tensors));
        Assert.Contains("flash-linear-attention / Hugging Face", e.Message);
        Assert.Contains("BlinkDL/rwkv7-g1", e.Message);
    }

    [Theory]
    [InlineData("_orig_mod.")]
    [InlineData("module.")]
    [InlineData("_orig_mod.module.")]
    public void A_file_with_wrapper_prefixes_loads_and_matches_the_reference(string prefix)
    {
        var path = Write(Fixture().ToDictionary(e => prefix + e.Key, e => e.Value));
        using var model = Rwkv7Model.Load(path, new GeneratorOptions());
        Rwkv7ParityTests.AssertAllCasesWithin(model, 1e-4);
    }

    [Fact]
    public void Layer_0_value_mix_placeholders_are_accepted_as_the_reference_ignores_them()
    {
        var tensors = Fixture();
        tensors["blocks.0.att.v0"] = tensors["blocks.0.att.a0"].clone();
        tensors["blocks.0.att.v1"] = tensors["blocks.0.att.a1"].clone();
        tensors["blocks.0.att.v2"] = tensors["blocks.0.att.a2"].clone();
        using var model = Rwkv7Model.Load(Write(tensors), new GeneratorOptions());
        Rwkv7ParityTests.AssertAllCasesWithin(model, 1e-4);
    }

    [Fact]
    public void A_file_without_ln0_holds_the_normalised_table_and_matches_the_reference()
    {
        var tensors = Fixture();
        var (emb, w, b) = (tensors["emb.weight"], tensors["blocks.0.ln0.weight"], tensors["blocks.0.ln0.bias"]);
        tensors["emb.weight"] = nn.functional.layer_norm(emb, [emb.shape[1]], w, b, 1e-5);
        tensors.Remove("blocks.0.ln0.weight");
        tensors.Remove("blocks.0.ln0.bias");
        foreach (var t in new[] { emb, w, b }) t.Dispose();
        using var model = Rwkv7Model.Load(Write(tensors), new GeneratorOptions());
        Rwkv7ParityTests.AssertAllCasesWithin(model, 1e-4);
    }

    [Fact]
    public void Half_an_ln0_is_still_a_missing_key()
    {
        var tensors = Fixture();
        tensors.Remove("blocks.0.ln0.bias");
        var e = Refused(Write(tensors));
        Assert.Contains("missing key 'blocks.0.ln0.bias'", e.Message);
    }

    [Fact]
    public void Opening_reads_the_index_only_and_each_tensor_on_request()
    {
        using var checkpoint = Rwkv7Checkpoint.Open(CheckpointFiles.FixturePth);
        var config = Rwkv7Config.Infer(checkpoint.Tensors, CheckpointFiles.FixturePth);
        Assert.Equal(3, config.LayerCount);
        using var head = checkpoint.Read("head.weight");
        var all = Checkpoint.Load(TestData.Path("rwkv7", "rwkv7-tiny-a.safetensors"));
        Assert.True(head.allclose(all["head.weight"], rtol: 0, atol: 0));
        foreach (var t in all.Values) t.Dispose();
    }
}
