using Rag.Generator.Generation;
using Rag.Generator.Checkpoints;
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

    internal static void AssertAllCasesWithin(Rwkv7Model model, double tolerance, double top1Agreement = 1.0)
    {
        var results = ParityCheck.Run(model, Expected);
        Assert.Equal(["batch", "batch decode", "batch decode ×8", "case0", "case1", "case1 decode", "case2", "case2 decode", "case3", "case3 decode"], results.Select(r => r.Case));
        foreach (var result in results)
        {
            Assert.True(result.MaxRelativeError <= tolerance, $"{result.Case}: max relative error {result.MaxRelativeError:g3} > {tolerance:g3}");
            Assert.True(result.Top1Agreement >= top1Agreement, $"{result.Case}: top-1 agreement {result.Top1Agreement:p1} < {top1Agreement:p1}");
        }
    }

    [Theory]
    [InlineData("rwkv7-tiny-a.pth")]
    [InlineData("rwkv7-tiny-a.safetensors")]
    public void Fp32_checkpoint_matches_the_reference_at_every_position(string checkpoint)
    {
        using var model = Rwkv7Model.Load(Fixture(checkpoint), new GeneratorOptions());
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
            new GeneratorOptions { ChunkLength = chunkLength, SegmentLength = segmentLength });
        AssertAllCasesWithin(model, Fp32Tolerance);
    }
}

public class Rwkv7PrecisionAndDecodeTests
{
    private static string Fixture(string name) => TestData.Path("rwkv7", name);

    private static readonly Dictionary<string, Tensor> Expected = SafeTensors.Load(Fixture("rwkv7-tiny-a-expected.safetensors"));

    /// <summary>
    /// bf16 keeps 8 significand bits: the bf16 checkpoint's weights are each within 2^-8 of the fp32 ones, and
    /// bf16 activations are rounded as finely after every operation. About a dozen rounded matrices lie on the path
    /// of every logit (3 layers × r, k, v, output, LoRAs, FFN, head) and the state carries earlier tokens' errors,
    /// so the logits may move by a few percent of their scale: allowed 2^-4 with fp32 activations and 2^-3 with
    /// bf16 ones (observed ≈ 0.037 and ≈ 0.063). A misplaced tensor or wrong formula gives errors of order 1.
    /// The most likely next token must still agree at nearly every position.
    /// </summary>
    private const double Bf16WeightsTolerance = 1.0 / 16, Bf16ComputeTolerance = 1.0 / 8, Bf16Top1Agreement = 0.9;

    [Theory]
    [InlineData("rwkv7-tiny-a-bf16.pth", "fp32", Bf16WeightsTolerance)]
    [InlineData("rwkv7-tiny-a-bf16.pth", "bf16", Bf16ComputeTolerance)]
    [InlineData("rwkv7-tiny-a.pth", "bf16", Bf16ComputeTolerance)]
    public void Bf16_matches_the_reference_within_bf16_tolerance(string checkpoint, string dtype, double tolerance)
    {
        using var model = Rwkv7Model.Load(Fixture(checkpoint), new GeneratorOptions { Dtype = dtype });
        Assert.Equal(GeneratorOptions.ParseDtype(dtype), model.Dtype);
        Rwkv7ParityTests.AssertAllCasesWithin(model, tolerance, Bf16Top1Agreement);
    }

    [Theory]
    [InlineData("case3", 250)] // long prefill, then decode
    [InlineData("case2", 1)]   // decode almost everything
    [InlineData("batch", 17)]
    public void Prefill_then_decode_token_by_token_matches_the_full_forward(string name, int prefill)
    {
        using var model = Rwkv7Model.Load(Fixture("rwkv7-tiny-a.pth"), new GeneratorOptions { ChunkLength = 16 });
        var tokens = Expected[name + ".tokens"];
        var expected = Expected[name + ".logits"];
        if (tokens.dim() == 1) (tokens, expected) = (tokens.unsqueeze(0), expected.unsqueeze(0));
        long T = tokens.shape[1];
        using var state = model.CreateState((int)tokens.shape[0]);

        var logits = new List<Tensor> { model.ForwardAll(tokens.narrow(1, 0, prefill), state) };
        for (long t = prefill; t < T; t++)
            logits.Add(model.Forward(tokens.narrow(1, t, 1), state).unsqueeze(1));

        var actual = cat(logits, 1);
        // Disposed after cat, which also keeps them alive through it: TorchSharp passes their raw handles to native code.
        foreach (var piece in logits) piece.Dispose();
        Assert.Equal(expected.shape, actual.shape);
        var error = ParityCheck.MaxRelativeError(actual, expected);
        Assert.True(error <= 1e-4, $"max relative error {error:g3}");
    }

    [Fact]
    public void Forward_returns_the_last_positions_logits_and_advances_the_state()
    {
        using var model = Rwkv7Model.Load(Fixture("rwkv7-tiny-a.safetensors"), new GeneratorOptions { SegmentLength = 40 });
        var tokens = Expected["case2.tokens"].unsqueeze(0);
        using var state = model.CreateState();

        var first = model.Forward(tokens.narrow(1, 0, 50), state);
        var second = model.Forward(tokens.narrow(1, 50, 14), state);

        Assert.Equal(new long[] { 1, 1024 }, first.shape);
        Assert.True(ParityCheck.MaxRelativeError(first, Expected["case2.logits"][49].unsqueeze(0)) <= 1e-4);
        Assert.True(ParityCheck.MaxRelativeError(second, Expected["case2.logits"][63].unsqueeze(0)) <= 1e-4);
    }

    [Fact]
    public void Cloned_state_continues_independently()
    {
        using var model = Rwkv7Model.Load(Fixture("rwkv7-tiny-a.pth"), new GeneratorOptions());
        var tokens = Expected["case1.tokens"].unsqueeze(0);
        using var state = model.CreateState();
        model.Forward(tokens.narrow(1, 0, 4), state);
        using var copy = state.Clone();

        var fromOriginal = model.Forward(tokens.narrow(1, 4, 3), state);
        var fromCopy = model.Forward(tokens.narrow(1, 4, 3), copy);

        Assert.True(fromOriginal.eq(fromCopy).all().item<bool>());
    }

    [Fact]
    public void Token_outside_the_vocabulary_is_rejected()
    {
        using var model = Rwkv7Model.Load(Fixture("rwkv7-tiny-a.pth"), new GeneratorOptions());
        using var state = model.CreateState();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(tensor(new long[,] { { 3, 1024 } }), state));
        Assert.Contains("[0, 1024)", e.Message);
    }

    [Fact]
    public void Unknown_dtype_option_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => Rwkv7Model.Load(Fixture("rwkv7-tiny-a.pth"), new GeneratorOptions { Dtype = "fp8" }));
        Assert.Contains("'fp8'", e.Message);
    }

    [Fact]
    public void Random_model_of_a_published_shape_runs()
    {
        var config = Rwkv7Config.Published["tiny"];
        using var model = Rwkv7Model.CreateRandom(config, "cpu", "fp32", seed: 1);
        using var state = model.CreateState(2);
        var logits = model.Forward(randint(0, config.VocabSize, [2, 20]), state);
        Assert.Equal(new long[] { 2, config.VocabSize }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }
}

public class Rwkv7CudaTests
{
    [SkippableFact]
    public void Asking_for_cuda_without_cuda_is_a_clear_error()
    {
        Skip.If(torch.cuda.is_available(), "CUDA is available here, so the behaviour without it cannot be observed.");
        var e = Assert.Throws<InvalidOperationException>(() =>
            Rwkv7Model.Load(TestData.Path("rwkv7", "rwkv7-tiny-a.pth"), new GeneratorOptions { Device = "cuda" }));
        Assert.Contains("CUDA is not available", e.Message);
    }

    [SkippableFact]
    public void Cuda_model_matches_the_reference()
    {
        Skip.IfNot(torch.cuda.is_available(), "CUDA is not available here (torch.cuda.is_available() is false: no GPU or the CPU-only TorchSharp backend).");
        using var model = Rwkv7Model.Load(TestData.Path("rwkv7", "rwkv7-tiny-a.pth"), new GeneratorOptions { Device = "cuda", Dtype = "fp32" });
        Assert.Equal(DeviceType.CUDA, model.Device.type);
        foreach (var result in ParityCheck.Run(model, TestData.Path("rwkv7", "rwkv7-tiny-a-expected.safetensors")))
            Assert.True(result.MaxRelativeError <= 1e-4, $"{result.Case}: max relative error {result.MaxRelativeError:g3}");
    }
}
