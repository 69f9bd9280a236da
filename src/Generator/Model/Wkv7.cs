using Rag.Generator.Kernels;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Rag.Generator.Model;

/// <summary>
/// The RWKV-7 WKV operator, per head, the generalised delta rule of the reference kernel:
/// <code>
///   S_t = S_{t-1} (diag(w_t) + a_t b_tᵀ) + v_t k_tᵀ        (S: value × key, N × N)
///   y_t = S_t r_t
/// </code>
/// with a = -kk, b = kk·a_gate from the time mix. Decode (T = 1) applies this step directly. Prefill works on
/// chunks of <see cref="ChunkLength"/> tokens with M = Sᵀ (key × value) and Γ_t = ∏_{s≤t} diag(w_s) from the
/// chunk start. Writing u_t = M_{t-1}ᵀ a_t for the delta-rule correction,
/// <code>
///   M_t = Γ_t M_0 + Σ_{s≤t} Γ_t Γ_s⁻¹ (b_s u_sᵀ + k_s v_sᵀ)
/// </code>
/// so the rows U of a chunk satisfy the unit lower-triangular system (I - A_ab) U = Ã M_0 + A_ak V (WY/UT form)
/// and the outputs are Y = (R̃ + A_rb W) M_0 + A_rb U_0 + A_rk V, all matmuls. On a GPU the unit triangular system is
/// inverted by repeated squaring and the chunk-to-chunk state updates are composed by a parallel scan (few, wide
/// launches); a CPU solves the system and steps the chunks one after another (fewer FLOPs). Memory is O(T·L), never
/// T×T. Everything here is fp32.
/// </summary>
public sealed class Wkv7
{
    private readonly Rwkv7Kernels? _kernels;

    /// <param name="tensorFloat32">
    /// Let the chunked form's fp32 matmuls use TF32 tensor cores on CUDA: several times faster, with about
    /// 1e-3 relative rounding, which is far below the error of a bf16/fp16 model and so only used for those.
    /// </param>
    /// <param name="kernels">When given, every forward runs Rag's CUDA scan instead of the tensor-op forms below.</param>
    internal Wkv7(int chunkLength, bool tensorFloat32, Rwkv7Kernels? kernels)
        : this(chunkLength, tensorFloat32)
    {
        _kernels = kernels;
    }

    public Wkv7(int chunkLength, bool tensorFloat32 = false)
    {
        TensorFloat32 = tensorFloat32;
        if (chunkLength < 1 || chunkLength > Generation.GeneratorOptions.MaxChunkLength)
            throw new ArgumentOutOfRangeException(nameof(chunkLength), chunkLength, $"WKV chunk length must be between 1 and {Generation.GeneratorOptions.MaxChunkLength}.");
        ChunkLength = chunkLength;
    }

    public int ChunkLength { get; }

    /// <summary>Rag's CUDA kernels when they run this model: the time and channel mixes use them around the scan too.</summary>
    internal Rwkv7Kernels? Kernels => _kernels;

    public bool TensorFloat32 { get; }

    /// <summary>
    /// r, k, v, a, b: [B, T, H, N]; logW = log w_t = -exp(w_raw): [B, T, H, N]; all fp32.
    /// <paramref name="state"/> [B, H, N, N] fp32 is advanced in place. Returns y [B, T, H, N].
    /// </summary>
    public Tensor Forward(Tensor r, Tensor logW, Tensor k, Tensor v, Tensor a, Tensor b, Tensor state) =>
        _kernels is not null ? _kernels.Wkv7Prefill(r, logW, k, v, a, b, state)
        : r.shape[1] == 1
            ? Step(r.squeeze(1), logW.squeeze(1), k.squeeze(1), v.squeeze(1), a.squeeze(1), b.squeeze(1), state).unsqueeze(1)
            : Chunked(r, logW, k, v, a, b, state);

    /// <summary>One token, exactly the reference recurrence. Inputs [B, H, N]; returns y [B, H, N].</summary>
    public static Tensor Step(Tensor r, Tensor logW, Tensor k, Tensor v, Tensor a, Tensor b, Tensor state)
    {
        using var scope = NewDisposeScope();
        var sa = state.matmul(a.unsqueeze(-1));                              // S a: [B, H, N, 1]
        state.mul_(logW.exp().unsqueeze(-2))                                 // S diag(w)
             .add_(sa.matmul(b.unsqueeze(-2)))                               // + (S a) bᵀ
             .add_(v.unsqueeze(-1).matmul(k.unsqueeze(-2)));                 // + v kᵀ
        return state.matmul(r.unsqueeze(-1)).squeeze(-1).MoveToOuterDisposeScope(); // y = S r
    }

    /// <summary>Chunked parallel form for T ≥ 1 tokens; see the class comment.</summary>
    public Tensor Chunked(Tensor r, Tensor logW, Tensor k, Tensor v, Tensor a, Tensor b, Tensor state)
    {
        if (!TensorFloat32 || r.device.type != DeviceType.CUDA) return ChunkedFp32(r, logW, k, v, a, b, state);
        // Process-wide switch; model calls are serialised by the generator, and it is restored at once.
        bool previous = backends.cuda.matmul.allow_tf32;
        backends.cuda.matmul.allow_tf32 = true;
        try
        {
            return ChunkedFp32(r, logW, k, v, a, b, state);
        }
        finally
        {
            backends.cuda.matmul.allow_tf32 = previous;
        }
    }

    private Tensor ChunkedFp32(Tensor r, Tensor logW, Tensor k, Tensor v, Tensor a, Tensor b, Tensor state)
    {
        using var scope = NewDisposeScope();
        long batch = r.shape[0], T = r.shape[1], H = r.shape[2], N = r.shape[3];
        long L = ChunkLength, chunks = (T + L - 1) / L;

        // [B, T, H, N] → [B, H, chunks, L, N]. Padding steps have k = v = a = b = 0 and log w = 0 (w = 1),
        // so they leave the state as it was.
        // Contiguous after the permute: every elementwise op below then runs vectorised instead of strided.
        Tensor Chunk(Tensor x) => F.pad(x, [0, 0, 0, 0, 0, chunks * L - T])
            .view(batch, chunks, L, H, N).permute(0, 3, 1, 2, 4).contiguous();
        (r, logW, k, v, a, b) = (Chunk(r), Chunk(logW), Chunk(k), Chunk(v), Chunk(a), Chunk(b));

        var g = logW.cumsum(-2);            // log Γ_t, through step t of the chunk
        var gBefore = g - logW;             // log Γ_{t-1}
        var gEnd = g.narrow(-2, L - 1, 1);  // log Γ_L: [B, H, chunks, 1, N]

        var rDecayed = r * g.exp();             // Γ_t r_t
        var aDecayed = a * gBefore.exp();       // Γ_{t-1} a_t
        var kGrown = k * (-g).exp();            // Γ_s⁻¹ k_s (≤ e^39 for L ≤ 64)
        var bGrown = b * (-g).exp();            // Γ_s⁻¹ b_s
        var toEnd = (gEnd - g).exp();           // Γ_L Γ_s⁻¹ ≤ 1
        var kToEnd = k * toEnd;
        var bToEnd = b * toEnd;

        var strictlyLower = ones(L, L, device: r.device).tril(-1);
        var lowerWithDiagonal = ones(L, L, device: r.device).tril();
        var aB = aDecayed.matmul(bGrown.mT) * strictlyLower;     // [.., L, L]: a_t·Γ_{t-1}Γ_s⁻¹·b_s, s < t
        var aK = aDecayed.matmul(kGrown.mT) * strictlyLower;
        var rB = rDecayed.matmul(bGrown.mT) * lowerWithDiagonal; // s ≤ t
        var rK = rDecayed.matmul(kGrown.mT) * lowerWithDiagonal;

        // U = W M_0 + U_0 with (I - A_ab) W = Ã and (I - A_ab) U_0 = A_ak V. A CPU runs FLOPs rather than launches, so
        // it solves the triangular system directly (L² per column instead of the squarings' 2·log2(L)·L²).
        Tensor w, u0;
        if (r.device.type == DeviceType.CPU)
        {
            var solved = linalg.solve_triangular(eye(L, device: r.device) - aB, cat([aDecayed, aK.matmul(v)], -1),
                upper: false, unitriangular: true);
            (w, u0) = (solved.narrow(-1, 0, N), solved.narrow(-1, N, N));
        }
        else
        {
            var inverse = UnitLowerInverse(aB);
            (w, u0) = (inverse.matmul(aDecayed), inverse.matmul(aK.matmul(v)));
        }
        // Y = Q M_0 + Y_0.
        var q = rDecayed + rB.matmul(w);
        var y = rB.matmul(u0) + rK.matmul(v);

        // Chunk to chunk the state is affine in itself: M_next = A M + C with
        //   A = diag(Γ_L) + (Γ_L Γ⁻¹ B)ᵀ W,   C = (Γ_L Γ⁻¹ B)ᵀ U_0 + (Γ_L Γ⁻¹ K)ᵀ V,
        // computed for every chunk at once, then applied chunk after chunk on a CPU (one N³ product each). A GPU
        // composes them with an inclusive scan instead (Hillis–Steele: log2(chunks) rounds of batched matmuls, not one
        // small launch per chunk), so that M after chunk c = (A_c⋯A_0) M_0 + C'_c.
        long bh = batch * H;
        var transitions = (bToEnd.mT.matmul(w) + gEnd.exp().mT * eye(N, device: r.device)).reshape(bh, chunks, N, N);
        var inputs = (bToEnd.mT.matmul(u0) + kToEnd.mT.matmul(v)).reshape(bh, chunks, N, N);
        var m0 = state.mT.reshape(bh, 1, N, N);             // M = Sᵀ: key × value
        var ends = r.device.type == DeviceType.CPU           // M after each chunk: [B·H, chunks, N, N]
            ? ChunkByChunk(transitions, inputs, m0)
            : Scan(transitions, inputs, m0);
        var starts = cat([m0, ends.narrow(1, 0, chunks - 1)], 1);
        y.add_(q.matmul(starts.view(batch, H, chunks, N, N)));
        state.copy_(ends.select(1, chunks - 1).view(batch, H, N, N).mT);

        // [B, H, chunks, L, N] → [B, T, H, N]
        return y.permute(0, 2, 3, 1, 4).reshape(batch, chunks * L, H, N).narrow(1, 0, T).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>M after each chunk, one chunk after another: M_c = A_c M_{c-1} + C_c.</summary>
    private static Tensor ChunkByChunk(Tensor transitions, Tensor inputs, Tensor m0)
    {
        var ends = empty_like(inputs);
        var m = m0.squeeze(1);
        for (long c = 0; c < inputs.shape[1]; c++)
            m = ends.select(1, c).copy_(transitions.select(1, c).matmul(m).add_(inputs.select(1, c)));
        return ends;
    }

    /// <summary>
    /// M after each chunk from an inclusive scan of the affine maps (consumes <paramref name="transitions"/> and
    /// <paramref name="inputs"/>): after round d, chunk c holds the composition of chunks c - 2d + 1 .. c.
    /// </summary>
    private static Tensor Scan(Tensor transitions, Tensor inputs, Tensor m0)
    {
        long chunks = inputs.shape[1];
        for (long d = 1; d < chunks; d *= 2)
        {
            // Chunks c ≥ d take on chunk c - d's prefix; both products read the pre-round values, so they
            // are formed before either is written back in place.
            using var round = NewDisposeScope();
            var later = transitions.narrow(1, d, chunks - d);
            var composedInputs = later.matmul(inputs.narrow(1, 0, chunks - d));
            var composedTransitions = later.matmul(transitions.narrow(1, 0, chunks - d));
            inputs.narrow(1, d, chunks - d).add_(composedInputs);
            later.copy_(composedTransitions);
        }
        return transitions.matmul(m0).add_(inputs);
    }

    /// <summary>
    /// (I - A)⁻¹ for strictly lower-triangular A [.., L, L]. A is nilpotent (A^L = 0), so
    /// (I - A)⁻¹ = I + A + A² + … = (I + A)(I + A²)(I + A⁴)⋯: log2(L) squarings, all batched matmuls,
    /// which GPUs run far faster than many small triangular solves.
    /// </summary>
    private static Tensor UnitLowerInverse(Tensor a)
    {
        var identity = eye(a.shape[^1], dtype: a.dtype, device: a.device);
        var inverse = identity + a;
        var power = a;
        for (long span = 2; span < a.shape[^1]; span *= 2)
        {
            power = power.matmul(power);
            inverse = inverse.matmul(identity + power);
        }
        return inverse;
    }
}
