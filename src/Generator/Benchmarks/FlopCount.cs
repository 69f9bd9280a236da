namespace Rag.Generator.Benchmarks;

/// <summary>
/// Forward FLOPs (2 per multiply-add) of the work a model must do, independent of how it is done:
/// the benchmark divides these by the measured time to get achieved TFLOP/s.
/// </summary>
public static class FlopCount
{
    /// <summary>
    /// RWKV-7 per token per layer: r, k, v, output projections (4C²), the w/a/v/g LoRAs (2C·rank each;
    /// the v LoRA is absent in layer 0), channel mix (2·C·F) and the WKV recurrence (per head: state
    /// decay, the a-b rank-one correction, the v·kᵀ write and the read by r, 4N² each, i.e. 4·C·N).
    /// The head runs on the last position only, as prefill returns last-position logits.
    /// </summary>
    public static double Rwkv7Prefill(int layers, int c, int headSize, int ffn, int vocab,
        int wRank, int aRank, int vRank, int gRank, long tokens)
    {
        double perLayer = 4.0 * c * c + 2.0 * c * (wRank + aRank + gRank) + 2.0 * c * ffn + 4.0 * c * headSize;
        double vLora = 2.0 * c * vRank * (layers - 1);
        return 2.0 * (tokens * (layers * perLayer + vLora) + (double)c * vocab);
    }

    /// <summary>
    /// Softmax transformer prefill of T tokens: q, k, v, output (4C²) and a 4× GELU MLP (8C²) per token,
    /// plus causal attention (QKᵀ and PV over half the T×T pairs: 2·C·T² per layer), head once.
    /// </summary>
    public static double SoftmaxPrefill(int layers, int c, int vocab, long tokens) =>
        2.0 * (tokens * layers * 12.0 * c * c + layers * (double)c * tokens * tokens + (double)c * vocab);
}
