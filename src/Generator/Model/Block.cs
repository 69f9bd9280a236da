using static TorchSharp.torch;

namespace Rag.Generator.Model;

/// <summary>A pre-norm residual block: x += TimeMix(ln1(x)); x += ChannelMix(ln2(x)).</summary>
internal sealed class Block(ModelWeights weights, Rwkv7Config config, int layer, Wkv7 wkv) : IDisposable
{
    internal readonly LayerNorm ln1 = new(weights, $"blocks.{layer}.ln1");
    internal readonly LayerNorm ln2 = new(weights, $"blocks.{layer}.ln2");
    internal readonly TimeMix att = new(weights, $"blocks.{layer}.att", config, layer, wkv);
    internal readonly ChannelMix ffn = new(weights, $"blocks.{layer}.ffn", wkv.Kernels);

    public Tensor Forward(Tensor x, Rwkv7LayerState state, ref Tensor? vFirst)
    {
        x = x + att.Forward(ln1.Forward(x), state, ref vFirst);
        return x + ffn.Forward(ln2.Forward(x), state.ChannelMixShift);
    }

    public void Dispose()
    {
        ln1.Dispose();
        ln2.Dispose();
        att.Dispose();
        ffn.Dispose();
    }
}
