using Rag.Generator.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Tests;

/// <summary>The model against the reference implementation's logits (tests/data/rwkv7/rwkv7-tiny-a-expected.safetensors).</summary>
public class Rwkv7ParityTests
{
    private const double Fp32Tolerance = 1e-4;

    private static string Fixture(string name) => TestData.Path("rwkv7", name);

    private static readonly string Expected = Fixture("rwkv7-tiny-a-expected.safetensors");

    private static void AssertAllCasesWithin(Rwkv7Model model, double tolerance)
    {
        var results = ParityCheck.Run(model, Expected);
        Assert.Equal(["batch", "case0", "case1", "case2", "case3"], results.Select(r => r.Case));
        foreach (var result in results)
            Assert.True(result.MaxRelativeError <= tolerance, $"{result.Case}: max relative error {result.MaxRelativeError:g3} > {tolerance:g3}");
    }

    [Theory]
    [InlineData("rwkv7-tiny-a.pth")]
    [InlineData("rwkv7-tiny-a.safetensors")]
    public void Fp32_checkpoint_matches_the_reference_at_every_position(string checkpoint)
    {
        using var model = Rwkv7Model.Load(Fixture(checkpoint), new ModelLoadOptions());
        AssertAllCasesWithin(model, Fp32Tolerance);
    }

    [Theory]
    [InlineData(16, 2048)]
    [InlineData(64, 2048)]
    [InlineData(32, 50)]  // case3 (300 tokens) runs as six segments
    [InlineData(7, 13)]   // chunks and segments that divide nothing evenly
    public void Chunk_and_segment_lengths_do_not_change_the_logits(int chunkLength, int segmentLength)
    {
        using var model = Rwkv7Model.Load(Fixture("rwkv7-tiny-a.pth"),
            new ModelLoadOptions { ChunkLength = chunkLength, SegmentLength = segmentLength });
        AssertAllCasesWithin(model, Fp32Tolerance);
    }
}
