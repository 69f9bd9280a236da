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

    public long Bytes => Layers.Sum(l => TensorBytes(l.TimeMixShift) + TensorBytes(l.Wkv) + TensorBytes(l.ChannelMixShift));

    public IModelState Slice(int start, int count)
    {
        if (start < 0 || count < 1 || start + count > Batch)
            throw new ArgumentOutOfRangeException(nameof(count), $"Sequences [{start}, {start + count}) are not within the state's {Batch}.");
        return new Rwkv7State(count, Layers.Select(l => new Rwkv7LayerState(
            Owned(l.TimeMixShift.narrow(0, start, count)), Owned(l.Wkv.narrow(0, start, count)), Owned(l.ChannelMixShift.narrow(0, start, count)))).ToArray());
    }

    public void CopySequence(int sequence, IModelState source, int sourceSequence)
    {
        var from = Same(source);
        CheckSequence(sequence);
        from.CheckSequence(sourceSequence);
        for (int i = 0; i < Layers.Count; i++)
        {
            CopyRow(Layers[i].TimeMixShift, sequence, from.Layers[i].TimeMixShift, sourceSequence);
            CopyRow(Layers[i].Wkv, sequence, from.Layers[i].Wkv, sourceSequence);
            CopyRow(Layers[i].ChannelMixShift, sequence, from.Layers[i].ChannelMixShift, sourceSequence);
        }
    }

    public IModelState CopyOut(int sequence, Device device)
    {
        CheckSequence(sequence);
        return new Rwkv7State(1, Layers.Select(l => new Rwkv7LayerState(
            RowCopy(l.TimeMixShift, sequence, device), RowCopy(l.Wkv, sequence, device), RowCopy(l.ChannelMixShift, sequence, device))).ToArray());
    }

    private Rwkv7State Same(IModelState other) =>
        other is Rwkv7State state && state.Layers.Count == Layers.Count && state.Layers[0].Wkv.shape.Skip(1).SequenceEqual(Layers[0].Wkv.shape.Skip(1))
            ? state
            : throw new ArgumentException("The state was not created by the same model.", nameof(other));

    private void CheckSequence(int sequence)
    {
        if (sequence < 0 || sequence >= Batch)
            throw new ArgumentOutOfRangeException(nameof(sequence), sequence, $"The state holds sequences 0 to {Batch - 1}.");
    }

    private static void CopyRow(Tensor to, int row, Tensor from, int fromRow)
    {
        using var target = to.narrow(0, row, 1);
        using var source = from.narrow(0, fromRow, 1);
        target.copy_(source);
    }

    private static Tensor RowCopy(Tensor t, int row, Device device)
    {
        using var source = t.narrow(0, row, 1);
        return Owned(source.to(device, copy: true));
    }

    private static long TensorBytes(Tensor t) => t.numel() * t.ElementSize;

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
