using Rag.Generator.Checkpoints;
using TorchSharp;

namespace Rag.Generator.Tests;

public class SafeTensorsTests
{
    [Fact]
    public void Loads_fixture_tensors_with_their_shapes_and_values()
    {
        var tensors = SafeTensors.Load(TestData.Path("rwkv7", "rwkv7-tiny-a-expected.safetensors"));
        Assert.Equal(new long[] { 7 }, tensors["case1.tokens"].shape);
        Assert.Equal(torch.ScalarType.Int64, tensors["case1.tokens"].dtype);
        Assert.Equal(new long[] { 2, 40, 1024 }, tensors["batch.logits"].shape);
        Assert.True(tensors["case3.logits"].isfinite().all().item<bool>());
    }

    [Fact]
    public void Truncated_file_is_reported_with_its_name()
    {
        var path = Scratch.Path("safetensors-");
        var bytes = File.ReadAllBytes(TestData.Path("rwkv7", "rwkv7-tiny-a.safetensors"));
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Non_safetensors_file_is_rejected()
    {
        var path = Scratch.Path("safetensors-");
        File.WriteAllText(path, "this is plainly not a tensor file");
        var e = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Load(path));
        Assert.Contains("not a safetensors file", e.Message);
    }
}
