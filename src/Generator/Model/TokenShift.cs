using static TorchSharp.torch;

namespace Rag.Generator.Model;

/// <summary>RWKV's token shift: each position sees the previous token's input; the first sees the carried state.</summary>
internal static class TokenShift
{
    /// <summary>
    /// Returns x shifted one token right, [B, T, C], with <paramref name="shift"/> [B, C] in front;
    /// then stores the last token's x into <paramref name="shift"/> for the next call.
    /// </summary>
    public static Tensor Previous(Tensor x, Tensor shift)
    {
        long T = x.shape[1];
        var previous = cat([shift.unsqueeze(1), x.narrow(1, 0, T - 1)], 1);
        shift.copy_(x.select(1, T - 1));
        return previous;
    }
}
