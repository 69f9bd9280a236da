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
/// and the outputs are Y = (R̃ + A_rb W) M_0 + A_rb U_0 + A_rk V, all matmuls plus one triangular solve;
/// only the chunk-to-chunk state update (one multiply-add per chunk) is sequential. Memory is O(T·L), never T×T. Everything here is fp32.
/// </summary>
public sealed class Wkv7
{
    public Wkv7(int chunkLength)
    {
        if (chunkLength < 1 || chunkLength > ModelLoadOptions.MaxChunkLength)
            throw new ArgumentOutOfRangeException(nameof(chunkLength), chunkLength, $"WKV chunk length must be between 1 and {ModelLoadOptions.MaxChunkLength}.");
        ChunkLength = chunkLength;
    }

    public int ChunkLength { get; }

    /// <summary>
    /// r, k, v, a, b: [B, T, H, N]; logW = log w_t = -exp(w_raw): [B, T, H, N]; all fp32.
    /// <paramref name="state"/> [B, H, N, N] fp32 is advanced in place. Returns y [B, T, H, N].
    /// </summary>
    public Tensor Forward(Tensor r, Tensor logW, Tensor k, Tensor v, Tensor a, Tensor b, Tensor state) =>
        r.shape[1] == 1
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
        using var scope = NewDisposeScope();
        long batch = r.shape[0], T = r.shape[1], H = r.shape[2], N = r.shape[3];
        long L = ChunkLength, chunks = (T + L - 1) / L;

        // [B, T, H, N] → [B, H, chunks, L, N]. Padding steps have k = v = a = b = 0 and log w = 0 (w = 1),
        // so they leave the state as it was.
        Tensor Chunk(Tensor x) => F.pad(x, [0, 0, 0, 0, 0, chunks * L - T])
            .view(batch, chunks, L, H, N).permute(0, 3, 1, 2, 4);
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

        // U = W M_0 + U_0 with (I - A_ab) W = Ã and (I - A_ab) U_0 = A_ak V.
        var iMinusAB = eye(L, device: r.device) - aB;
        var w = linalg.solve_triangular(iMinusAB, aDecayed, upper: false, left: true, unitriangular: true);
        var u0 = linalg.solve_triangular(iMinusAB, aK.matmul(v), upper: false, left: true, unitriangular: true);
        // Y = Q M_0 + Y_0.
        var q = rDecayed + rB.matmul(w);
        var y = rB.matmul(u0) + rK.matmul(v);

        // Chunk to chunk the state is affine in itself: M_next = A M + C with
        //   A = diag(Γ_L) + (Γ_L Γ⁻¹ B)ᵀ W,   C = (Γ_L Γ⁻¹ B)ᵀ U_0 + (Γ_L Γ⁻¹ K)ᵀ V,
        // both computed for every chunk at once, so the sequential part is one fused multiply-add per chunk.
        var transition = bToEnd.mT.matmul(w) + gEnd.exp().mT * eye(N, device: r.device);    // A: [B, H, chunks, N, N]
        var input = bToEnd.mT.matmul(u0) + kToEnd.mT.matmul(v);                             // C: [B, H, chunks, N, N]
        long bh = batch * H;
        var transitions = transition.reshape(bh, chunks, N, N);
        var inputs = input.reshape(bh, chunks, N, N);
        var m = state.mT.reshape(bh, N, N);        // M = Sᵀ: key × value
        var starts = new Tensor[chunks];           // M at the start of each chunk
        for (long c = 0; c < chunks; c++)
        {
            starts[c] = m;
            m = transitions.select(1, c).bmm(m).add_(inputs.select(1, c));
        }
        y.add_(q.matmul(stack(starts, 1).view(batch, H, chunks, N, N)));
        state.copy_(m.view(batch, H, N, N).mT); // last: starts[0] may be a view of state

        // [B, H, chunks, L, N] → [B, T, H, N]
        return y.permute(0, 2, 3, 1, 4).reshape(batch, chunks * L, H, N).narrow(1, 0, T).contiguous().MoveToOuterDisposeScope();
    }
}
