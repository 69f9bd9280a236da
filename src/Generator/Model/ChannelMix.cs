using Rag.Generator.Kernels;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Rag.Generator.Model;

/// <summary>RWKV-7 channel mix: a token-shifted squared-ReLU MLP, value(relu(key(x + (x₋₁ - x)·x_k))²).</summary>
/// <param name="kernels">Rag's CUDA kernels when they run the model: the token shift and its mix are one pass, and so is
/// the squared ReLU.</param>
internal sealed class ChannelMix(ModelWeights weights, string prefix, Rwkv7Kernels? kernels) : IDisposable
{
    internal readonly Tensor x_k = weights[$"{prefix}.x_k"];        // [1, 1, C]
    internal readonly Tensor key = weights[$"{prefix}.key.weight"];   // [F, C]
    internal readonly Tensor value = weights[$"{prefix}.value.weight"]; // [C, F]

    /// <summary>x_k as fp32 [1, C], as Rag's kernels read it (prefill and the decode step), when they run the model.</summary>
    internal Tensor? Mix { get; } = kernels is null ? null : weights[$"{prefix}.x_k"].to(ScalarType.Float32).reshape(1, -1).contiguous().DetachFromDisposeScope();

    /// <param name="x">ln2 output [B, T, C].</param>
    /// <param name="shift">The previous token's x [B, C], advanced in place.</param>
    public Tensor Forward(Tensor x, Tensor shift)
    {
        var mixed = kernels is not null ? kernels.ShiftMix(x, shift, Mix!)[0] : x + (TokenShift.Previous(x, shift) - x) * x_k;
        var h = F.linear(mixed, key);
        var k = kernels is not null ? kernels.SquaredReluInPlace(h) : h.relu().square();
        return F.linear(k, value);
    }

    public void Dispose()
    {
        x_k.Dispose();
        key.Dispose();
        value.Dispose();
        Mix?.Dispose();
    }
}
