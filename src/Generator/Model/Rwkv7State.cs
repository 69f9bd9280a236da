using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Model;

/// <summary>
/// One layer's recurrent state. The token-shift vectors hold the previous token's normalised input to the
/// time mix and channel mix; the WKV matrix is the reference kernel's state (value index × key index), fp32.
/// </summary>
public sealed record Rwkv7LayerState(Tensor TimeMixShift, Tensor Wkv, Tensor ChannelMixShift) : IDisposable
{
    public void Dispose()
    {
        TimeMixShift.Dispose();
        Wkv.Dispose();
        ChannelMixShift.Dispose();
    }
}

/// <summary>
/// The constant-size state of <paramref name="batch"/> sequences: per layer a [B, C] shift for the time mix,
/// a [B, H, N, N] fp32 WKV matrix and a [B, C] shift for the channel mix. (v_first, the first layer's values,
/// is recomputed for every token, so it is not part of the state.)
/// </summary>
public sealed class Rwkv7State : IModelState
{
    private Rwkv7State(int batch, Rwkv7LayerState[] layers)
    {
        Batch = batch;
        Layers = layers;
    }

    public int Batch { get; }

    public IReadOnlyList<Rwkv7LayerState> Layers { get; }

    internal static Rwkv7State Zeros(Rwkv7Config config, int batch, ScalarType dtype, Device device)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "State batch must be at least 1.");
        long c = config.EmbeddingSize, h = config.HeadCount, n = config.HeadSize;
        var layers = Enumerable.Range(0, config.LayerCount).Select(_ => new Rwkv7LayerState(
            Owned(zeros([batch, c], dtype, device)),
            Owned(zeros([batch, h, n, n], ScalarType.Float32, device)),
            Owned(zeros([batch, c], dtype, device)))).ToArray();
        return new Rwkv7State(batch, layers);
    }

    /// <summary>An independent copy, e.g. to continue one prefilled prompt several ways.</summary>
    public Rwkv7State Clone() => new(Batch, Layers.Select(l => new Rwkv7LayerState(
        Owned(l.TimeMixShift.clone()), Owned(l.Wkv.clone()), Owned(l.ChannelMixShift.clone()))).ToArray());

    public IModelState Expand(int batch)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "State batch must be at least 1.");
        return new Rwkv7State(batch, Layers.Select(l => new Rwkv7LayerState(
            FirstRepeated(l.TimeMixShift, batch), FirstRepeated(l.Wkv, batch), FirstRepeated(l.ChannelMixShift, batch))).ToArray());
    }

    /// <summary>Sequence 0 of <paramref name="t"/> copied <paramref name="batch"/> times along dimension 0.</summary>
    private static Tensor FirstRepeated(Tensor t, int batch) =>
        Owned(t.narrow(0, 0, 1).repeat([batch, .. Enumerable.Repeat(1L, (int)t.dim() - 1)]));

    /// <summary>The state lives until disposed, whatever dispose scope the caller happens to be in.</summary>
    private static Tensor Owned(Tensor t) => t.DetachFromDisposeScope();

    public void Dispose()
    {
        foreach (var layer in Layers) layer.Dispose();
    }
}
