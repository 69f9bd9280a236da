using Rag.Generator.Model;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Rag.Generator.Tests;

public class Wkv7Tests
{
    /// <summary>Random inputs shaped like the time mix's: kk unit-norm, a in (0, 1), decay in the model's range.</summary>
    private static (Tensor r, Tensor logW, Tensor k, Tensor v, Tensor a, Tensor b) Inputs(long batch, long T, long H, long N)
    {
        var r = randn(batch, T, H, N);
        var logW = -(-F.softplus(-randn(batch, T, H, N) * 2) - 0.5).exp();
        var k = randn(batch, T, H, N);
        var v = randn(batch, T, H, N);
        var kk = F.normalize(randn(batch, T, H, N), p: 2, dim: -1);
        var gate = rand(batch, T, H, N);
        return (r, logW, k, v, -kk, kk * gate);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(64)]
    public void Chunked_form_equals_the_recurrence(int chunkLength)
    {
        // The scope keeps every temporary reachable until it ends: TorchSharp hands raw handles to native code, so
        // an unreferenced tensor (the steps given to stack) could otherwise be finalized while that code runs.
        using var scope = NewDisposeScope();
        random.manual_seed(7);
        long batch = 2, T = 37, H = 3, N = 16;
        var (r, logW, k, v, a, b) = Inputs(batch, T, H, N);
        var initial = randn(batch, H, N, N);

        var stepState = initial.clone();
        var expected = stack(Enumerable.Range(0, (int)T).Select(t =>
            Wkv7.Step(r.select(1, t), logW.select(1, t), k.select(1, t), v.select(1, t), a.select(1, t), b.select(1, t), stepState)), 1);

        var chunkState = initial.clone();
        var actual = new Wkv7(chunkLength).Chunked(r, logW, k, v, a, b, chunkState);

        Assert.Equal(expected.shape, actual.shape);
        AssertClose(expected, actual);
        AssertClose(stepState, chunkState);
    }

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        var error = ((actual - expected).abs().max() / expected.abs().max()).item<float>();
        Assert.True(error < 1e-5, $"relative error {error}");
    }

    [Fact]
    public void Chunk_length_outside_the_safe_range_is_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Wkv7(65));
        Assert.Contains("between 1 and 64", e.Message);
    }
}
