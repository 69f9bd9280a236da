using Rag.Generator.Kernels;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Rag.Generator.Model;

/// <summary>
/// RWKV-7 time mix ("attention"). From the token-shifted input it forms, per channel,
/// receptance r, decay w, key k, value v, in-context learning rate a and gate g; runs the WKV delta rule with
/// a = -kk, b = kk·a (kk the normalised key); normalises per head (GroupNorm, eps 64e-5), adds the r·k bonus
/// and projects out through the gate.
/// </summary>
internal sealed class TimeMix : IDisposable
{
    internal readonly int H, N;
    internal readonly Tensor x_r, x_w, x_k, x_v, x_a, x_g; // token-shift mixes [1, 1, C]
    internal readonly Tensor w0, w1, w2;                   // decay LoRA
    internal readonly Tensor a0, a1, a2;                   // in-context learning rate LoRA
    internal readonly Tensor? v0, v1, v2;                  // value residual towards v_first (layers > 0)
    internal readonly Tensor g1, g2;                       // gate LoRA
    internal readonly Tensor k_k, k_a;                     // [1, 1, C]
    internal readonly Tensor r_k;                          // bonus [H, N], fp32
    internal readonly Tensor receptance, key, value, output; // [C, C]
    internal readonly Tensor ln_x_weight, ln_x_bias;       // [C], fp32
    private readonly Wkv7 wkv;

    /// <summary>The fp32 vectors Rag's kernels read, when they run this model (the decode step reads them too).</summary>
    internal KernelVectors? Vectors { get; }

    /// <summary>The per-channel vectors as fp32 [M, C] / [C], as Rag's kernels read them.</summary>
    internal sealed record KernelVectors(Tensor Mix, Tensor W0, Tensor A0, Tensor? V0, Tensor KK, Tensor KA) : IDisposable
    {
        public void Dispose()
        {
            foreach (var t in new[] { Mix, W0, A0, V0, KK, KA }) t?.Dispose();
        }
    }

    public TimeMix(ModelWeights weights, string prefix, Rwkv7Config config, int layer, Wkv7 wkv)
    {
        (H, N) = (config.HeadCount, config.HeadSize);
        (x_r, x_w, x_k) = (weights[$"{prefix}.x_r"], weights[$"{prefix}.x_w"], weights[$"{prefix}.x_k"]);
        (x_v, x_a, x_g) = (weights[$"{prefix}.x_v"], weights[$"{prefix}.x_a"], weights[$"{prefix}.x_g"]);
        (w0, w1, w2) = (weights[$"{prefix}.w0"], weights[$"{prefix}.w1"], weights[$"{prefix}.w2"]);
        (a0, a1, a2) = (weights[$"{prefix}.a0"], weights[$"{prefix}.a1"], weights[$"{prefix}.a2"]);
        if (layer > 0) (v0, v1, v2) = (weights[$"{prefix}.v0"], weights[$"{prefix}.v1"], weights[$"{prefix}.v2"]);
        (g1, g2) = (weights[$"{prefix}.g1"], weights[$"{prefix}.g2"]);
        (k_k, k_a, r_k) = (weights[$"{prefix}.k_k"], weights[$"{prefix}.k_a"], weights.Float($"{prefix}.r_k"));
        (receptance, key) = (weights[$"{prefix}.receptance.weight"], weights[$"{prefix}.key.weight"]);
        (value, output) = (weights[$"{prefix}.value.weight"], weights[$"{prefix}.output.weight"]);
        (ln_x_weight, ln_x_bias) = (weights.Float($"{prefix}.ln_x.weight"), weights.Float($"{prefix}.ln_x.bias"));
        this.wkv = wkv;
        if (wkv.Kernels is not null)
        {
            static Tensor Fp32(Tensor t) => t.to(ScalarType.Float32).reshape(-1).contiguous().DetachFromDisposeScope();
            Vectors = new KernelVectors(cat([x_r, x_w, x_k, x_v, x_a, x_g], 0).reshape(6, -1).to(ScalarType.Float32).contiguous().DetachFromDisposeScope(),
                Fp32(w0), Fp32(a0), v0 is null ? null : Fp32(v0), Fp32(k_k), Fp32(k_a));
        }
    }

    /// <param name="x">ln1 output [B, T, C].</param>
    /// <param name="state">This layer's state; its time-mix shift and WKV matrix are advanced in place.</param>
    /// <param name="vFirst">Layer 0's values [B, T, C]: set by layer 0, mixed towards by the others.</param>
    public Tensor Forward(Tensor x, Rwkv7LayerState state, ref Tensor? vFirst)
    {
        if (Vectors is not null) return ForwardOnKernels(x, state, ref vFirst, wkv.Kernels!, Vectors);
        long B = x.shape[0], T = x.shape[1], C = x.shape[2];
        var xx = TokenShift.Previous(x, state.TimeMixShift) - x;
        var (xr, xw, xk) = (x + xx * x_r, x + xx * x_w, x + xx * x_k);
        var (xv, xa, xg) = (x + xx * x_v, x + xx * x_a, x + xx * x_g);

        var r = F.linear(xr, receptance);
        // Soft-clamped to (-inf, -0.5): the decay exp(-exp(w)) lies in (e^-e^-0.5, 1) ≈ (0.545, 1). fp32 from here.
        var w = -F.softplus(-(w0 + xw.matmul(w1).tanh().matmul(w2)).to(ScalarType.Float32)) - 0.5;
        var k = F.linear(xk, key);
        var v = F.linear(xv, value);
        if (vFirst is null) vFirst = v;
        else v = v + (vFirst - v) * (v0! + xv.matmul(v1!).matmul(v2!)).sigmoid();
        var a = (a0 + xa.matmul(a1).matmul(a2)).sigmoid();
        var g = xg.matmul(g1).sigmoid().matmul(g2);

        Tensor Heads(Tensor t) => t.to(ScalarType.Float32).view(B, T, H, N);
        var kk = F.normalize(Heads(k * k_k), p: 2, dim: -1);
        k = k * (1 + (a - 1) * k_a);
        var (rh, kh, vh) = (Heads(r), Heads(k), Heads(v));

        var y = wkv.Forward(rh, -w.exp().view(B, T, H, N), kh, vh, -kk, kk * Heads(a), state.Wkv);
        y = F.group_norm(y.view(B * T, C), H, ln_x_weight, ln_x_bias, 64e-5).view(B, T, H, N);
        y = y + (rh * kh * r_k).sum(-1, keepdim: true) * vh;
        return F.linear(y.view(B, T, C).to(x.dtype) * g, output);
    }

    /// <summary>The same on Rag's kernels: the projections and LoRAs stay matmuls; the token shift with its mixes, the
    /// scan's inputs and its output (GroupNorm, bonus, gate) are one fused pass each.</summary>
    private Tensor ForwardOnKernels(Tensor x, Rwkv7LayerState state, ref Tensor? vFirst, Rwkv7Kernels kernels, KernelVectors vectors)
    {
        var mixed = kernels.ShiftMix(x, state.TimeMixShift, vectors.Mix);  // [6, B, T, C]: r, w, k, v, a, g
        var (xr, xw, xk, xv, xa, xg) = (mixed[0], mixed[1], mixed[2], mixed[3], mixed[4], mixed[5]);
        var r = F.linear(xr, receptance);
        var k = F.linear(xk, key);
        var v = F.linear(xv, value);
        var wLora = xw.matmul(w1).tanh().matmul(w2);
        var aLora = xa.matmul(a1).matmul(a2);
        var vLora = v1 is null ? null : xv.matmul(v1).matmul(v2!);
        var g = xg.matmul(g1).sigmoid().matmul(g2);
        vFirst ??= empty_like(v);  // layer 0's kernel fills it
        var (rh, logW, kh, vh, a, b) = kernels.WkvInputs(r, k, v, wLora, aLora, vLora, vFirst, vectors);
        var y = wkv.Forward(rh, logW, kh, vh, a, b, state.Wkv);
        return F.linear(kernels.WkvOutput(y, rh, kh, vh, g, r_k, ln_x_weight, ln_x_bias), output);
    }

    public void Dispose()
    {
        foreach (var t in new[] { x_r, x_w, x_k, x_v, x_a, x_g, w0, w1, w2, a0, a1, a2, v0, v1, v2, g1, g2,
                                  k_k, k_a, r_k, receptance, key, value, output, ln_x_weight, ln_x_bias })
            t?.Dispose();
        Vectors?.Dispose();
    }
}
