using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Rag.Generator.Model;

/// <summary>RWKV-7 channel mix: a token-shifted squared-ReLU MLP, value(relu(key(x + (x₋₁ - x)·x_k))²).</summary>
internal sealed class ChannelMix(ModelWeights weights, string prefix) : IDisposable
{
    internal readonly Tensor x_k = weights[$"{prefix}.x_k"];        // [1, 1, C]
    internal readonly Tensor key = weights[$"{prefix}.key.weight"];   // [F, C]
    internal readonly Tensor value = weights[$"{prefix}.value.weight"]; // [C, F]

    /// <param name="x">ln2 output [B, T, C].</param>
    /// <param name="shift">The previous token's x [B, C], advanced in place.</param>
    public Tensor Forward(Tensor x, Tensor shift)
    {
        var xx = TokenShift.Previous(x, shift) - x;
        var k = F.linear(x + xx * x_k, key).relu().square();
        return F.linear(k, value);
    }

    public void Dispose()
    {
        x_k.Dispose();
        key.Dispose();
        value.Dispose();
    }
}
