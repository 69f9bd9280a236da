// RWKV-7 (x070) CUDA kernels, compiled at run time by NVRTC (see KernelCompiler.cs).
//
// Activations are fp32; the large matrices stay in the model dtype W (bf16, fp16 or fp32); the WKV state is fp32.
// No headers are included, so NVRTC needs nothing from a CUDA toolkit: 16-bit floats are converted with bit
// operations (bf16) or one PTX instruction (fp16).
//
// Head size N is 64 (every published RWKV-7); the host checks it before using these kernels.

typedef unsigned short u16;
typedef unsigned long long u64;

struct bf16 { u16 bits; };
struct f16 { u16 bits; };

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(bf16 x) { return __uint_as_float(((unsigned)x.bits) << 16); }
__device__ __forceinline__ float to_float(f16 x) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(x.bits)); return f; }

template <typename T> __device__ __forceinline__ T from_float(float x);
template <> __device__ __forceinline__ float from_float<float>(float x) { return x; }
template <> __device__ __forceinline__ bf16 from_float<bf16>(float x)
{
    unsigned u = __float_as_uint(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{(u16)((u >> 16) | 0x40u)};  // NaN stays NaN
    u += 0x7fffu + ((u >> 16) & 1u);                                                // round to nearest even
    return bf16{(u16)(u >> 16)};
}
template <> __device__ __forceinline__ f16 from_float<f16>(float x)
{
    u16 h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x));
    return f16{h};
}

// Eight consecutive elements as raw 16- or 32-byte words, and those words as fp32.
template <typename W> struct Raw8 { uint4 u; };
template <> struct Raw8<float> { uint4 u[2]; };
__device__ __forceinline__ void unpack8(const Raw8<float>& r, float* o)
{
    const uint4 a = r.u[0], b = r.u[1];
    const unsigned w[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
#pragma unroll
    for (int i = 0; i < 8; i++) o[i] = __uint_as_float(w[i]);
}
__device__ __forceinline__ void unpack8(const Raw8<bf16>& r, float* o)
{
    const unsigned w[4] = {r.u.x, r.u.y, r.u.z, r.u.w};
#pragma unroll
    for (int i = 0; i < 4; i++) { o[2 * i] = __uint_as_float(w[i] << 16); o[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u); }
}
__device__ __forceinline__ void unpack8(const Raw8<f16>& r, float* o)
{
    const unsigned w[4] = {r.u.x, r.u.y, r.u.z, r.u.w};
#pragma unroll
    for (int i = 0; i < 4; i++) { o[2 * i] = to_float(f16{(u16)(w[i] & 0xffffu)}); o[2 * i + 1] = to_float(f16{(u16)(w[i] >> 16)}); }
}

// Eight consecutive elements (16- or 32-byte aligned) as fp32.
template <typename W> __device__ __forceinline__ void load8(const W* p, float* o) { unpack8(Raw8<W>{*(const uint4*)p}, o); }
template <> __device__ __forceinline__ void load8(const float* p, float* o) { unpack8(Raw8<float>{{*(const uint4*)p, *(const uint4*)(p + 4)}}, o); }

// The same read once, bypassing L1: the GEMV's weights, so its inputs stay in L1.
__device__ __forceinline__ uint4 load_stream(const void* p)
{
    uint4 u;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];" : "=r"(u.x), "=r"(u.y), "=r"(u.z), "=r"(u.w) : "l"(p));
    return u;
}
template <typename W> __device__ __forceinline__ Raw8<W> load_raw8_stream(const W* p) { return Raw8<W>{load_stream(p)}; }
template <> __device__ __forceinline__ Raw8<float> load_raw8_stream(const float* p) { return Raw8<float>{{load_stream(p), load_stream(p + 4)}}; }

// ... and back, rounded to W.
__device__ __forceinline__ void store8(float* p, const float* v)
{
    *(float4*)p = make_float4(v[0], v[1], v[2], v[3]);
    *(float4*)(p + 4) = make_float4(v[4], v[5], v[6], v[7]);
}
template <typename W>
__device__ __forceinline__ void store8(W* p, const float* v)  // bf16 or f16
{
    unsigned w[4];
#pragma unroll
    for (int i = 0; i < 4; i++) w[i] = from_float<W>(v[2 * i]).bits | ((unsigned)from_float<W>(v[2 * i + 1]).bits << 16);
    *(uint4*)p = make_uint4(w[0], w[1], w[2], w[3]);
}

// Two consecutive elements (8- or 4-byte aligned) as fp32, and back.
__device__ __forceinline__ void load2(const float* p, float* o) { const float2 v = *(const float2*)p; o[0] = v.x; o[1] = v.y; }
template <typename W>
__device__ __forceinline__ void load2(const W* p, float* o)  // bf16 or f16
{
    const unsigned u = *(const unsigned*)p;
    o[0] = to_float(W{(u16)(u & 0xffffu)});
    o[1] = to_float(W{(u16)(u >> 16)});
}
__device__ __forceinline__ void store2(float* p, const float* v) { *(float2*)p = make_float2(v[0], v[1]); }
template <typename W>
__device__ __forceinline__ void store2(W* p, const float* v) { *(unsigned*)p = from_float<W>(v[0]).bits | ((unsigned)from_float<W>(v[1]).bits << 16); }

__device__ __forceinline__ float warp_sum(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the total.
__device__ float block_sum(float v, float* scratch)
{
    v = warp_sum(v);
    const int warps = blockDim.x >> 5;
    if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = v;
    __syncthreads();
    float total = 0;
    for (int i = 0; i < warps; i++) total += scratch[i];
    __syncthreads();
    return total;
}

// Sums over one head's 64 channels for the per-head math below: a block of 64 threads (one channel each), or one
// warp (two channels per lane).
struct BlockSum { float* scratch; __device__ __forceinline__ float operator()(float v) const { return block_sum(v, scratch); } };
struct WarpSum { __device__ __forceinline__ float operator()(float v) const { return warp_sum(v); } };

// ---------------------------------------------------------------------------------------------------------------
// Prefill: the WKV-7 recurrence over T tokens, per head, as the reference kernel defines it
//   S_t = S_{t-1} (diag(w_t) + a_t b_tᵀ) + v_t k_tᵀ,    y_t = S_t r_t        (S: value × key, 64 × 64, fp32)
// taken WC steps at a time (a sequential scan is latency-bound: 4.9 ms per layer per 16k tokens of 32 heads on an
// H200). Inside a chunk starting from S, with the cumulative decay
// Γ_s = w_1 ⊙ … ⊙ w_s (per key column) and u_s = S_{s-1} a_s, the state is
//   S_s = S Γ_s + Σ_{s'≤s} (u_s' b_s'ᵀ + v_s' k_s'ᵀ) diag(Γ_s / Γ_s'),
// so with a'_s = a_s ⊙ Γ_{s-1}, r'_s = r_s ⊙ Γ_s, b'_s = b_s / Γ_s, k'_s = k_s / Γ_s (rows of A', R', B', K'):
//   U = A' Sᵀ + tril₋(A'B'ᵀ) U + tril₋(A'K'ᵀ) V        (forward substitution: U's row s needs the rows before it)
//   Y = R' Sᵀ + tril(R'B'ᵀ) U + tril(R'K'ᵀ) V
//   S ← (S + Uᵀ B' + Vᵀ K') diag(Γ_WC)
// Every product is an independent dot product, so a chunk is a few wide steps instead of WC dependent ones. The
// decay is soft-clamped to w ≥ e^-e^-0.5 ≈ 0.545, so over 16 steps 1/Γ ≤ 1.7e4: fp32 keeps every factor exact to
// a few ulp. A block takes WROWS value rows of one head (the rows evolve independently given the step vectors).
// ---------------------------------------------------------------------------------------------------------------

#define WC 16         // steps per chunk
#define WROWS 16      // value rows per block: 4 blocks per head
#define WTHREADS 512  // 16 warps
#define WSTRIDE 68    // a 64-float row padded to 68: the A/B fragment loads of a warp hit distinct banks
#define VSTRIDE 24    // [step][value row] matrices, read as fragments along the step
#define MSTRIDE 20    // [step][step] Gram matrices

struct WkvPrefillArgs
{
    const float* r; const float* logw; const float* k; const float* a; const float* b; const float* v;  // [B, T, H, 64]
    float* state;  // [B, H, 64, 64], advanced in place
    float* y;      // [B, T, H, 64]
    int T, H;
};

// Tensor-core products in fp32 accuracy ("3xTF32"): x = hi + lo with hi = x cut to tf32's 10 mantissa bits and
// lo = (x - hi) cut the same way, so x·y ≈ hi·hi + hi·lo + lo·hi keeps ~21 bits where one tf32 product
// keeps 10. Fragments of mma.m16n8k8 (g = lane / 4, q = lane % 4):
//   A 16×8: (g, q) (g+8, q) (g, q+4) (g+8, q+4)    B 8×8: (q, g) (q+4, g)    C 16×8: (g, 2q) (g, 2q+1) (g+8, 2q) (g+8, 2q+1)
__device__ __forceinline__ void mma_tf32(float* c, const unsigned* a, const unsigned* b)
{
    asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Where C fragment element m sits in a row-major 16×8 tile at column n0 of a matrix with row stride ld.
__device__ __forceinline__ int tile_index(int m, int ld, int n0)
{
    const int g = (threadIdx.x & 31) >> 2, q = threadIdx.x & 3;
    return (g + (m >> 1) * 8) * ld + n0 + 2 * q + (m & 1);
}

// Three accumulators (hi·hi and the two cross terms) keep the dependent chains of mma short.
struct Acc3
{
    float c[4], x1[4], x2[4];
    __device__ __forceinline__ void init(float c0, float c1, float c2, float c3)
    {
        c[0] = c0; c[1] = c1; c[2] = c2; c[3] = c3;
#pragma unroll
        for (int m = 0; m < 4; m++) x1[m] = x2[m] = 0;
    }
    __device__ __forceinline__ float get(int m) const { return c[m] + (x1[m] + x2[m]); }
    __device__ __forceinline__ void load(const float* x, int ld, int n0)  // from the 16×8 tile at column n0
    {
        init(x[tile_index(0, ld, n0)], x[tile_index(1, ld, n0)], x[tile_index(2, ld, n0)], x[tile_index(3, ld, n0)]);
    }
    __device__ __forceinline__ void store(float* x, int ld, int n0) const
    {
#pragma unroll
        for (int m = 0; m < 4; m++) x[tile_index(m, ld, n0)] = get(m);
    }
    __device__ __forceinline__ void mma(const float* a, const float* b)  // += a b, fp32 accuracy
    {
        unsigned ah[4], al[4], bh[2], bl[2];
#pragma unroll
        for (int m = 0; m < 4; m++) { ah[m] = __float_as_uint(a[m]) & 0xffffe000u; al[m] = __float_as_uint(a[m] - __uint_as_float(ah[m])) & 0xffffe000u; }
#pragma unroll
        for (int m = 0; m < 2; m++) { bh[m] = __float_as_uint(b[m]) & 0xffffe000u; bl[m] = __float_as_uint(b[m] - __uint_as_float(bh[m])) & 0xffffe000u; }
        mma_tf32(x1, al, bh);
        mma_tf32(x2, ah, bl);
        mma_tf32(c, ah, bh);
    }
};

// Fragment loads from shared matrices stored row-major (x[row][col], row stride ld): A or B as stored or transposed.
__device__ __forceinline__ void load_a(float* a, const float* x, int ld, int m0, int k0, bool transposed)
{
    const int g = (threadIdx.x & 31) >> 2, q = threadIdx.x & 3;
    if (!transposed) { a[0] = x[(m0 + g) * ld + k0 + q]; a[1] = x[(m0 + g + 8) * ld + k0 + q]; a[2] = x[(m0 + g) * ld + k0 + q + 4]; a[3] = x[(m0 + g + 8) * ld + k0 + q + 4]; }
    else { a[0] = x[(k0 + q) * ld + m0 + g]; a[1] = x[(k0 + q) * ld + m0 + g + 8]; a[2] = x[(k0 + q + 4) * ld + m0 + g]; a[3] = x[(k0 + q + 4) * ld + m0 + g + 8]; }
}
__device__ __forceinline__ void load_b(float* b, const float* x, int ld, int k0, int n0, bool stored_nk)
{
    const int g = (threadIdx.x & 31) >> 2, q = threadIdx.x & 3;
    if (stored_nk) { b[0] = x[(n0 + g) * ld + k0 + q]; b[1] = x[(n0 + g) * ld + k0 + q + 4]; }
    else { b[0] = x[(k0 + q) * ld + n0 + g]; b[1] = x[(k0 + q + 4) * ld + n0 + g]; }
}

// acc += A B over k = 0 .. K-1 for the 16×8 output tile at column n0, A and B read as load_a and load_b read them.
template <int K>
__device__ __forceinline__ void tile_mma(Acc3& acc, const float* a, int lda, bool aTransposed, const float* b, int ldb, bool bStoredNk, int n0)
{
    float af[4], bf[2];
#pragma unroll
    for (int k0 = 0; k0 < K; k0 += 8)
    {
        load_a(af, a, lda, 0, k0, aTransposed);
        load_b(bf, b, ldb, k0, n0, bStoredNk);
        acc.mma(af, bf);
    }
}

// out = the 16×8 tile at column n0 of X Yᵀ, X and Y two [16][WSTRIDE] matrices, over their 64 columns; alternate
// k-steps go to two accumulators, so the dependent chains of mma are half as long.
__device__ __forceinline__ void tile_dot64(float* out, const float* x, const float* y, int n0)
{
    Acc3 even, odd;
    even.init(0, 0, 0, 0);
    odd.init(0, 0, 0, 0);
    float a[4], b[2];
#pragma unroll
    for (int k0 = 0; k0 < 64; k0 += 8)
    {
        load_a(a, x, WSTRIDE, 0, k0, false);
        load_b(b, y, WSTRIDE, k0, n0, true);
        (k0 & 8 ? odd : even).mma(a, b);
    }
#pragma unroll
    for (int m = 0; m < 4; m++) out[m] = even.get(m) + odd.get(m);
}

// What one chunk needs, made by the prep warps one chunk ahead of the state warps (two of these alternate).
struct WkvChunk
{
    float vec[4][WC][WSTRIDE];  // r', k', a', b' (rows s = 0 .. WC-1)
    float vs[WC][VSTRIDE];      // v of the block's rows
    float M[4][WC][MSTRIDE];    // the Gram matrices' lower triangles; tril₋(A'B'ᵀ) transposed (the solve reads columns)
    float gammaEnd[64];         // Γ_WC
};

// Dynamic shared memory of wkv7_prefill (57,600 bytes: Rwkv7Kernels.cs passes the same).
struct WkvShared
{
    WkvChunk chunk[2];
    float S[WROWS][WSTRIDE];                                 // the block's rows of the state
    float U[WC][VSTRIDE], Pa[WC][VSTRIDE], Pr[WC][VSTRIDE];  // U; A'Sᵀ; R'Sᵀ
};

__device__ __forceinline__ void bar_state() { asm volatile("bar.sync 1, 256;" ::: "memory"); }  // warps 0-7
__device__ __forceinline__ void bar_prep() { asm volatile("bar.sync 2, 256;" ::: "memory"); }   // warps 8-15
__device__ __forceinline__ void bar_solve() { asm volatile("bar.sync 3, 64;" ::: "memory"); }   // warps 0-1

// Warps 0-7 carry the state from chunk to chunk (the dependent part: A'Sᵀ, the solve for U, the state update and y);
// warps 8-15 meanwhile make the next chunk's state-free part (decays, the step vectors, Gram matrices), so a chunk
// costs the longer of the two parts, not their sum.
extern "C" __global__ void __launch_bounds__(WTHREADS, 1) wkv7_prefill(WkvPrefillArgs p)
{
    enum { R = 0, K = 1, A = 2, B = 3 };      // the step vectors, as r', k', a', b'
    enum { AB = 0, AK = 1, RB = 2, RK = 3 };  // the Gram matrices
    extern __shared__ __align__(16) unsigned char wkvShared[];
    WkvShared& sh = *reinterpret_cast<WkvShared*>(wkvShared);

    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, q = lane & 3;
    const int bh = blockIdx.x / (64 / WROWS), batch = bh / p.H, h = bh % p.H, i0 = (blockIdx.x % (64 / WROWS)) * WROWS;
    const long rowStride = (long)p.H * 64;
    const long base = (long)batch * p.T * rowStride + (long)h * 64;
    float* state = p.state + ((long)bh * 64 + i0) * 64;
    const int chunks = (p.T + WC - 1) / WC;
    const bool prepWarp = warp >= 8;

    // Prep threads: one key column of one step vector each (and the column's log w), and one v.
    const int pt = tid & 255, column = pt & 63, group = pt >> 6;  // group: a', r', b', k'
    const int x = group == 0 ? A : group == 1 ? R : group == 2 ? B : K;
    const float* xs = group == 0 ? p.a : group == 1 ? p.r : group == 2 ? p.b : p.k;
    const int vStep = pt >> 4, vRow = pt & 15;
    float logw[WC], value[WC], v = 0;

    if (!prepWarp)
        for (int e = tid; e < WROWS * 16; e += 256)
            *(float4*)&sh.S[e / 16][(e % 16) * 4] = *(const float4*)(state + (e / 16) * 64 + (e % 16) * 4);

    // Iteration c: the state warps take chunk c, the prep warps make chunk c + 1 and load chunk c + 2 (from c = -2,
    // which only loads chunk 0).
    for (int c = -2; c < chunks; c++)
    {
        if (prepWarp)
        {
            const int next = c + 1;
            WkvChunk& ch = sh.chunk[next & 1];
            if (next >= 0 && next < chunks)
            {
                float logGamma = 0;
#pragma unroll
                for (int s = 0; s < WC; s++)
                {
                    const float before = logGamma;
                    logGamma += logw[s];
                    ch.vec[x][s][column] = value[s] * __expf(group == 0 ? before : group == 1 ? logGamma : -logGamma);
                }
                if (group == 1) ch.gammaEnd[column] = __expf(logGamma);
                ch.vs[vStep][vRow] = v;
            }
            if (c + 2 < chunks)  // in flight while the Gram matrices are formed; steps past T: log w = 0 (w = 1) and
            {                    // k = v = a = b = 0, which leave S as it is
#pragma unroll
                for (int s = 0; s < WC; s++)
                {
                    const int t = (c + 2) * WC + s;
                    const long at = base + t * rowStride + column;
                    logw[s] = t < p.T ? p.logw[at] : 0;
                    value[s] = t < p.T ? xs[at] : 0;
                }
                const int t = (c + 2) * WC + vStep;
                v = t < p.T ? p.v[base + t * rowStride + i0 + vRow] : 0;
            }
            if (next >= 0 && next < chunks)
            {
                bar_prep();
                // One 16×8 tile of [A'; R'] [B'; K']ᵀ per warp, lower triangles kept.
                const int tile = warp - 8, n0 = (tile & 1) * 8, left = (tile >> 2) == 0 ? A : R, right = (tile & 3) < 2 ? B : K;
                float gram[4];
                tile_dot64(gram, &ch.vec[left][0][0], &ch.vec[right][0][0], n0);
                const int which = (left == A ? AB : RB) + (right == B ? 0 : 1);
#pragma unroll
                for (int m = 0; m < 4; m++)
                {
                    const int s = g + (m >> 1) * 8, col = n0 + 2 * q + (m & 1);
                    const float kept = (left == A ? col < s : col <= s) ? gram[m] : 0;
                    if (which == AB) ch.M[AB][col][s] = kept;
                    else ch.M[which][s][col] = kept;
                }
            }
        }
        else if (c >= 0)
        {
            WkvChunk& ch = sh.chunk[c & 1];
            Acc3 acc[2];

            // 1. Warps 0-3: P = [A'; R'] Sᵀ, one 16×8 tile each. Warps 4-7: S + Vᵀ K', two 16×8 tiles of key
            //    columns each (kept in registers until U is known).
            if (warp < 4)
            {
                const int n0 = (warp & 1) * 8;
                float P[4];
                tile_dot64(P, &ch.vec[warp < 2 ? A : R][0][0], &sh.S[0][0], n0);
#pragma unroll
                for (int m = 0; m < 4; m++) (warp < 2 ? &sh.Pa[0][0] : &sh.Pr[0][0])[tile_index(m, VSTRIDE, n0)] = P[m];
            }
            else
#pragma unroll
                for (int nt = 0; nt < 2; nt++)
                {
                    const int n0 = (warp - 4) * 16 + nt * 8;
                    acc[nt].load(&sh.S[0][0], WSTRIDE, n0);
                    tile_mma<WC>(acc[nt], &ch.vs[0][0], VSTRIDE, true, &ch.vec[K][0][0], WSTRIDE, false, n0);
                }
            bar_state();

            // 2. Warps 0-1: U = (I - tril₋(A'B'ᵀ))⁻¹ (A'Sᵀ + tril₋(A'K'ᵀ) V): the right-hand side as two tiles, then
            //    warp 0 solves for U by forward substitution, one value row per lane. Warps 2-3 meanwhile: the
            //    part of y that needs no U, R'Sᵀ + tril(R'K'ᵀ) V.
            if (warp < 2)
            {
                const int n0 = warp * 8;
                acc[0].load(&sh.Pa[0][0], VSTRIDE, n0);
                tile_mma<WC>(acc[0], &ch.M[AK][0][0], MSTRIDE, false, &ch.vs[0][0], VSTRIDE, false, n0);
                acc[0].store(&sh.U[0][0], VSTRIDE, n0);
                bar_solve();
                if (warp == 0 && lane < WROWS)
                {
                    // Forward substitution, right-looking: once u_s2 is known it goes into every later row at once,
                    // so the chain of dependent FMAs is WC long instead of WC (WC - 1) / 2.
                    float u[WC];
#pragma unroll
                    for (int s = 0; s < WC; s++) u[s] = sh.U[s][lane];
#pragma unroll
                    for (int s2 = 0; s2 < WC - 1; s2++)
#pragma unroll
                        for (int s = (s2 + 1) & ~3; s < WC; s += 4)
                        {
                            const float4 m4 = *(const float4*)&ch.M[AB][s2][s];  // column s2 of tril₋(A'B'ᵀ)
                            if (s > s2) u[s] += m4.x * u[s2];
                            if (s + 1 > s2) u[s + 1] += m4.y * u[s2];
                            if (s + 2 > s2) u[s + 2] += m4.z * u[s2];
                            u[s + 3] += m4.w * u[s2];
                        }
#pragma unroll
                    for (int s = 0; s < WC; s++) sh.U[s][lane] = u[s];
                }
            }
            else if (warp < 4)
            {
                const int n0 = (warp - 2) * 8;
                acc[0].load(&sh.Pr[0][0], VSTRIDE, n0);
                tile_mma<WC>(acc[0], &ch.M[RK][0][0], MSTRIDE, false, &ch.vs[0][0], VSTRIDE, false, n0);
            }
            bar_state();

            // 3. The parts with U: warps 4-7 S ← (S + Vᵀ K' + Uᵀ B') diag(Γ_WC), warps 2-3 y += tril(R'B'ᵀ) U.
            if (warp >= 4)
#pragma unroll
                for (int nt = 0; nt < 2; nt++)
                {
                    const int n0 = (warp - 4) * 16 + nt * 8;
                    tile_mma<WC>(acc[nt], &sh.U[0][0], VSTRIDE, true, &ch.vec[B][0][0], WSTRIDE, false, n0);
#pragma unroll
                    for (int m = 0; m < 4; m++) (&sh.S[0][0])[tile_index(m, WSTRIDE, n0)] = acc[nt].get(m) * ch.gammaEnd[n0 + 2 * q + (m & 1)];
                }
            else if (warp >= 2)
            {
                const int n0 = (warp - 2) * 8;
                tile_mma<WC>(acc[0], &ch.M[RB][0][0], MSTRIDE, false, &sh.U[0][0], VSTRIDE, false, n0);
#pragma unroll
                for (int m = 0; m < 4; m++)
                {
                    const int token = c * WC + g + (m >> 1) * 8;
                    if (token < p.T) p.y[base + token * rowStride + i0 + n0 + 2 * q + (m & 1)] = acc[0].get(m);
                }
            }
        }
        __syncthreads();
    }
    if (!prepWarp)
        for (int e = tid; e < WROWS * 16; e += 256)
            *(float4*)(state + (e / 16) * 64 + (e % 16) * 4) = *(const float4*)&sh.S[e / 16][(e % 16) * 4];
}

// ---------------------------------------------------------------------------------------------------------------
// Decode: one token for each of B sequences, the whole model in a handful of launches per layer, captured as one
// CUDA graph by the host (from 2 sequences the wide projections are cuBLAS GEMMs in the same graph). The recurrent
// state is reached through a device table of pointers (per layer: time-mix shift, WKV matrix, channel-mix shift),
// so one captured graph serves any state object of the same batch size.
// ---------------------------------------------------------------------------------------------------------------

// x[b, :] = emb[token[b], :]
struct EmbedArgs { const void* emb; const long long* tokens; float* x; int C; };

template <typename W>
__device__ void embed(const EmbedArgs& p)
{
    const long long token = p.tokens[blockIdx.x];
    for (int c = threadIdx.x; c < p.C; c += blockDim.x) p.x[(long)blockIdx.x * p.C + c] = to_float(((const W*)p.emb)[token * p.C + c]);
}
extern "C" __global__ void embed_bf16(EmbedArgs p) { embed<bf16>(p); }
extern "C" __global__ void embed_f16(EmbedArgs p) { embed<f16>(p); }
extern "C" __global__ void embed_f32(EmbedArgs p) { embed<float>(p); }

// LayerNorm (eps 1e-5) of x[b, :], then RWKV's token shift: with the previous token's normalised input x₋₁
// (from the state, which takes this token's in its place) each of the M outputs is xn + (x₋₁ - xn) · mix_m.
// Without a shift slot (ln_out) the single output is xn itself.
struct ShiftMixArgs
{
    const float* x;                        // [B, C]
    const float* ln_w; const float* ln_b;  // [C]
    const u64* table; int shift_slot;      // state table entry of the [B, C] shift (model dtype), or -1
    const float* mix;                      // [M, C]
    void* out;                             // [M, B, C]: fp32, or the model dtype when out_half (cuBLAS reads it)
    int B, C, M, out_half;
};

template <typename W>
__device__ void shift_mix(const ShiftMixArgs& p)
{
    __shared__ float scratch[32];
    const int b = blockIdx.x;
    const float* x = p.x + (long)b * p.C;
    float sum = 0;
    for (int c = threadIdx.x; c < p.C; c += blockDim.x) sum += x[c];
    const float mean = block_sum(sum, scratch) / p.C;
    float squares = 0;
    for (int c = threadIdx.x; c < p.C; c += blockDim.x) { float d = x[c] - mean; squares += d * d; }
    const float rstd = rsqrtf(block_sum(squares, scratch) / p.C + 1e-5f);
    W* shift = p.shift_slot >= 0 ? (W*)p.table[p.shift_slot] + (long)b * p.C : nullptr;
    auto store = [&](long i, float v) { if (p.out_half) ((W*)p.out)[i] = from_float<W>(v); else ((float*)p.out)[i] = v; };
    for (int c = threadIdx.x; c < p.C; c += blockDim.x)
    {
        const float xn = (x[c] - mean) * rstd * p.ln_w[c] + p.ln_b[c];
        if (!shift) { store((long)b * p.C + c, xn); continue; }
        const float xx = to_float(shift[c]) - xn;
        shift[c] = from_float<W>(xn);
        for (int m = 0; m < p.M; m++) store(((long)m * p.B + b) * p.C + c, fmaf(xx, p.mix[(long)m * p.C + c], xn));
    }
}
extern "C" __global__ void shift_mix_bf16(ShiftMixArgs p) { shift_mix<bf16>(p); }
extern "C" __global__ void shift_mix_f16(ShiftMixArgs p) { shift_mix<f16>(p); }
extern "C" __global__ void shift_mix_f32(ShiftMixArgs p) { shift_mix<float>(p); }

// y[b, n] (=|+=) act(bias[n] + Σ_k W[n, k] in_act(x[b, k])) for up to 8 independent matrices in one launch; one warp per
// output row, which reads its weight row once per 8 sequences (decode is bound by reading the weights at small B).
#define ACT_NONE 0
#define ACT_TANH 1
#define ACT_SIGMOID 2
#define ACT_RELU_SQUARED 3
#define ACT_LOG_DECAY 4   // log w = -exp(-softplus(-z) - 0.5): the decay soft-clamped to (e^-e^-0.5, 1)
#define MAX_JOBS 8
#define BATCH_GROUP 8

struct GemvJob
{
    const void* w;      // [n, k] model dtype, row-major, k a multiple of 8
    const float* x;     // [B, k]
    float* y;           // [B, n]
    const float* bias;  // [n] or null
    int n, k, act, accumulate;
    int in_act;         // applied to x as it is read: a LoRA's inner activation, after a down-projection without one
};
struct GemvArgs { GemvJob job[MAX_JOBS]; int count, B; };

__device__ __forceinline__ float activate(float z, int act)
{
    switch (act)
    {
    case ACT_TANH: return tanhf(z);
    case ACT_SIGMOID: return 1.f / (1.f + __expf(-z));
    case ACT_RELU_SQUARED: { float r = fmaxf(z, 0.f); return r * r; }
    case ACT_LOG_DECAY: { float u = -z; float softplus = u > 20.f ? u : log1pf(__expf(u)); return -__expf(-softplus - 0.5f); }
    default: return z;
    }
}

// One warp per row, GROUP sequences per pass over it. Each lane keeps DEPTH 16-byte weight loads in flight: with one
// at a time a warp waits a whole memory latency per 512 bytes, and at batch 1 the step is bound by the bytes in flight
// (2 measured best on an H200: 4 loses occupancy; narrow rows, the LoRAs' up-projections, keep 1 for the same reason).
template <typename W, int DEPTH, int GROUP>
__device__ void gemv(const GemvArgs& p)
{
    const int lane = threadIdx.x & 31;
    int n = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), j = 0;
    while (j < p.count && n >= p.job[j].n) n -= p.job[j++].n;
    if (j == p.count) return;
    const GemvJob job = p.job[j];
    const W* w = (const W*)job.w + (long)n * job.k;
    for (int b0 = 0; b0 < p.B; b0 += GROUP)
    {
        float acc[GROUP];
#pragma unroll
        for (int g = 0; g < GROUP; g++) acc[g] = 0;
        for (int c0 = lane * 8; c0 < job.k; c0 += 256 * DEPTH)
        {
            Raw8<W> raw[DEPTH];
#pragma unroll
            for (int d = 0; d < DEPTH; d++)
                if (c0 + 256 * d < job.k) raw[d] = load_raw8_stream(w + c0 + 256 * d);
#pragma unroll
            for (int d = 0; d < DEPTH; d++)
            {
                const int c = c0 + 256 * d;
                if (c >= job.k) break;
                float wv[8];
                unpack8(raw[d], wv);
#pragma unroll
                for (int g = 0; g < GROUP; g++)
                {
                    if (b0 + g >= p.B) break;
                    float xv[8];
                    load8(job.x + (long)(b0 + g) * job.k + c, xv);
                    if (job.in_act != ACT_NONE)  // uniform: kept out of the product so plain rows stay a straight FMA chain
#pragma unroll
                        for (int e = 0; e < 8; e++) xv[e] = activate(xv[e], job.in_act);
#pragma unroll
                    for (int e = 0; e < 8; e++) acc[g] = fmaf(wv[e], xv[e], acc[g]);
                }
            }
        }
#pragma unroll
        for (int g = 0; g < GROUP; g++)
        {
            if (b0 + g >= p.B) break;
            float z = warp_sum(acc[g]);
            if (lane == 0)
            {
                z = activate(z + (job.bias ? job.bias[n] : 0.f), job.act);
                float* y = job.y + (long)(b0 + g) * job.n + n;
                *y = job.accumulate ? *y + z : z;
            }
        }
    }
}
// gemv: rows of fewer than GemvArgs.WideK columns (the LoRAs' up-projections); gemv_wide: the rest. gemv1 and gemv1_wide
// serve one sequence: without the accumulators of a group they keep more warps per SM (8% of a batch-1 step).
extern "C" __global__ void gemv_bf16(GemvArgs p) { gemv<bf16, 1, BATCH_GROUP>(p); }
extern "C" __global__ void gemv_f16(GemvArgs p) { gemv<f16, 1, BATCH_GROUP>(p); }
extern "C" __global__ void gemv_f32(GemvArgs p) { gemv<float, 1, BATCH_GROUP>(p); }
extern "C" __global__ void gemv_wide_bf16(GemvArgs p) { gemv<bf16, 2, BATCH_GROUP>(p); }
extern "C" __global__ void gemv_wide_f16(GemvArgs p) { gemv<f16, 2, BATCH_GROUP>(p); }
extern "C" __global__ void gemv_wide_f32(GemvArgs p) { gemv<float, 2, BATCH_GROUP>(p); }
extern "C" __global__ void gemv1_bf16(GemvArgs p) { gemv<bf16, 1, 1>(p); }
extern "C" __global__ void gemv1_f16(GemvArgs p) { gemv<f16, 1, 1>(p); }
extern "C" __global__ void gemv1_f32(GemvArgs p) { gemv<float, 1, 1>(p); }
extern "C" __global__ void gemv1_wide_bf16(GemvArgs p) { gemv<bf16, 2, 1>(p); }
extern "C" __global__ void gemv1_wide_f16(GemvArgs p) { gemv<f16, 2, 1>(p); }
extern "C" __global__ void gemv1_wide_f32(GemvArgs p) { gemv<float, 2, 1>(p); }

// The same products for many sequences at once (B up to 64) on the tensor cores: mma.sync m16n8k16 with the
// weights (bf16 or fp16) as A, the inputs rounded to the weight type as B, fp32 accumulation. A block takes 16
// output rows of one matrix and all B sequences; its 4 warps split each staged chunk of 128 columns four ways and
// add their sums at the end. Within 32 columns, lane t holds columns 8t..8t+7 of A and B alike (one 16-byte load
// each) rather than the m16n8k16 order: a sum over columns does not depend on their order, as long as A and B agree.
#define GEMM_ROWS 16
#define GEMM_WARPS 4
#define GEMM_KC 128
#define GEMM_MAX_B 64
#define GEMM_XS_STRIDE 160  // halves per staged row: 16-byte fragment loads of a quarter-warp hit distinct banks

template <typename W> __device__ __forceinline__ void mma16816(float* c, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0, unsigned b1);
template <> __device__ __forceinline__ void mma16816<bf16>(float* c, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0, unsigned b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3]) : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
template <> __device__ __forceinline__ void mma16816<f16>(float* c, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0, unsigned b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3]) : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

template <typename W>
__device__ void gemm(const GemvArgs& p)
{
    __shared__ __align__(16) u16 xs[GEMM_MAX_B][GEMM_XS_STRIDE];
    __shared__ float partial[GEMM_WARPS - 1][GEMM_MAX_B / 8][4][32];
    int block = blockIdx.x, j = 0;
    while (j < p.count && block >= (p.job[j].n + GEMM_ROWS - 1) / GEMM_ROWS) block -= (p.job[j++].n + GEMM_ROWS - 1) / GEMM_ROWS;
    if (j == p.count) return;
    const GemvJob job = p.job[j];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int n0 = block * GEMM_ROWS, tiles = (p.B + 7) / 8;  // 8 sequences per mma
    const bool row0 = n0 + g < job.n, row8 = n0 + g + 8 < job.n;
    const W* w0 = (const W*)job.w + (long)(n0 + g) * job.k + 8 * t;
    const W* w8 = w0 + 8L * job.k;
    float acc[GEMM_MAX_B / 8][4];
#pragma unroll
    for (int i = 0; i < GEMM_MAX_B / 8; i++) acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0;

    for (int k0 = 0; k0 < job.k; k0 += GEMM_KC)
    {
        const int kc = min(GEMM_KC, job.k - k0);  // a multiple of 32 (checked by the host)
        __syncthreads();
        for (int e = threadIdx.x; e < tiles * 8 * (GEMM_KC / 4); e += blockDim.x)
        {
            const int b = e / (GEMM_KC / 4), c = (e % (GEMM_KC / 4)) * 4;
            float4 x = make_float4(0, 0, 0, 0);
            if (b < p.B && c < kc)
            {
                x = *(const float4*)(job.x + (long)b * job.k + k0 + c);
                x = make_float4(activate(x.x, job.in_act), activate(x.y, job.in_act), activate(x.z, job.in_act), activate(x.w, job.in_act));
            }
            uint2 packed = make_uint2(from_float<W>(x.x).bits | ((unsigned)from_float<W>(x.y).bits << 16),
                                      from_float<W>(x.z).bits | ((unsigned)from_float<W>(x.w).bits << 16));
            *(uint2*)&xs[b][c] = packed;
        }
        __syncthreads();
        const int kk = warp * 32;
        if (kk < kc)
        {
            const uint4 a0 = row0 ? *(const uint4*)(w0 + k0 + kk) : make_uint4(0, 0, 0, 0);
            const uint4 a8 = row8 ? *(const uint4*)(w8 + k0 + kk) : make_uint4(0, 0, 0, 0);
#pragma unroll
            for (int i = 0; i < GEMM_MAX_B / 8; i++)
            {
                if (i >= tiles) break;
                const uint4 x = *(const uint4*)&xs[i * 8 + g][kk + 8 * t];
                mma16816<W>(acc[i], a0.x, a8.x, a0.y, a8.y, x.x, x.y);
                mma16816<W>(acc[i], a0.z, a8.z, a0.w, a8.w, x.z, x.w);
            }
        }
    }
    if (warp > 0)
#pragma unroll
        for (int i = 0; i < GEMM_MAX_B / 8; i++)
#pragma unroll
            for (int r = 0; r < 4; r++) partial[warp - 1][i][r][lane] = acc[i][r];
    __syncthreads();
    if (warp > 0) return;
    // acc[i]: rows n0 + g (0, 1) and n0 + g + 8 (2, 3); sequences i*8 + 2t (0, 2) and i*8 + 2t + 1 (1, 3)
#pragma unroll
    for (int i = 0; i < GEMM_MAX_B / 8; i++)
    {
        if (i >= tiles) break;
#pragma unroll
        for (int r = 0; r < 4; r++)
        {
            const int n = n0 + g + (r >= 2 ? 8 : 0), b = i * 8 + 2 * t + (r & 1);
            if (n >= job.n || b >= p.B) continue;
            float sum = acc[i][r];
#pragma unroll
            for (int other = 0; other < GEMM_WARPS - 1; other++) sum += partial[other][i][r][lane];
            const float z = activate(sum + (job.bias ? job.bias[n] : 0.f), job.act);
            float* y = job.y + (long)b * job.n + n;
            *y = job.accumulate ? *y + z : z;
        }
    }
}
extern "C" __global__ void __launch_bounds__(128) gemm_bf16(GemvArgs p) { gemm<bf16>(p); }
extern "C" __global__ void __launch_bounds__(128) gemm_f16(GemvArgs p) { gemm<f16>(p); }

// The time mix around the WKV step, per head, with one thread per channel i of the head (a block of 64):
// kk = normalize(k·k_k), k' = k·(1 + (a - 1)·k_a), the WKV step's a = -kk and b = kk·a; after the step the
// head's GroupNorm (eps 64e-5), the r·k' bonus and the gate: y = (GN(S r) + (Σ r k' r_k) v) · g. Decode and
// prefill share these.
// The per-head math of prefill and decode on P channels per thread. k' = k (1 + (gate - 1) k_a), and from the
// normalised key kk: a = -kk, b = kk gate.
template <int P, typename Sum>
__device__ __forceinline__ void head_inputs(const float* k, const float* gate, const float* k_k, const float* k_a,
                                            float* k_out, float* a, float* b, Sum sum)
{
    float kk[P], squares = 0;
#pragma unroll
    for (int i = 0; i < P; i++) { kk[i] = k[i] * k_k[i]; squares += kk[i] * kk[i]; }
    const float norm = fmaxf(sqrtf(sum(squares)), 1e-12f);
#pragma unroll
    for (int i = 0; i < P; i++)
    {
        kk[i] /= norm;
        k_out[i] = k[i] * (1.f + (gate[i] - 1.f) * k_a[i]);
        a[i] = -kk[i];
        b[i] = kk[i] * gate[i];
    }
}

// GroupNorm of the head's y (eps 64e-5), plus the bonus (Σ r k' r_k) v, times the gate g.
template <int P, typename Sum>
__device__ __forceinline__ void head_output(const float* y, const float* r, const float* k, const float* v, const float* r_k,
                                            const float* lnx_w, const float* lnx_b, const float* g, float* out, Sum sum)
{
    float total = 0, bonus = 0, d[P], squares = 0;
#pragma unroll
    for (int i = 0; i < P; i++) { total += y[i]; bonus += r[i] * k[i] * r_k[i]; }
    const float mean = sum(total) / 64.f;
#pragma unroll
    for (int i = 0; i < P; i++) { d[i] = y[i] - mean; squares += d[i] * d[i]; }
    const float scale = rsqrtf(sum(squares) / 64.f + 64e-5f);
    bonus = sum(bonus);
#pragma unroll
    for (int i = 0; i < P; i++) out[i] = (d[i] * scale * lnx_w[i] + lnx_b[i] + bonus * v[i]) * g[i];
}

// The decode step of the time mix after its projections, one (sequence, head) per block: the inputs above, the
// value residual towards layer 0's values, one WKV step, the output above.
struct WkvDecodeArgs
{
    const float* r; const float* k; const float* v; const float* logw; const float* a; const float* g;  // [B, C]
    const float* vres;                     // [B, C] gate towards v_first, null in layer 0
    float* v_first;                        // [B, C]: layer 0 writes it, later layers read it
    const float* k_k; const float* k_a;    // [C]
    const float* r_k;                      // [H, 64]
    const float* lnx_w; const float* lnx_b;  // [C]
    void* y;                               // [B, C]: fp32 (y_type 0), bf16 (1) or fp16 (2)
    const u64* table; int wkv_slot;        // state table entry of S [B, H, 64, 64]
    int H, y_type;
};

extern "C" __global__ void __launch_bounds__(64) wkv7_decode(WkvDecodeArgs p)
{
    __shared__ float r[64], w[64], k[64], a[64], b[64], scratch[32];
    const int i = threadIdx.x, bh = blockIdx.x, h = bh % p.H, C = p.H * 64;
    const long idx = (long)(bh / p.H) * C + h * 64 + i;

    head_inputs<1>(&p.k[idx], &p.a[idx], &p.k_k[h * 64 + i], &p.k_a[h * 64 + i], &k[i], &a[i], &b[i], BlockSum{scratch});
    float v = p.v[idx];
    if (p.vres) v += (p.v_first[idx] - v) * p.vres[idx];
    else p.v_first[idx] = v;
    r[i] = p.r[idx]; w[i] = __expf(p.logw[idx]);
    __syncthreads();

    float* row = (float*)p.table[p.wkv_slot] + ((long)bh * 64 + i) * 64;
    float S[64];
#pragma unroll
    for (int j = 0; j < 64; j += 4) { float4 x = *(const float4*)(row + j); S[j] = x.x; S[j + 1] = x.y; S[j + 2] = x.z; S[j + 3] = x.w; }
    float sa = 0;
#pragma unroll
    for (int j = 0; j < 64; j++) sa = fmaf(S[j], a[j], sa);
    float y = 0;
#pragma unroll
    for (int j = 0; j < 64; j++) { S[j] = fmaf(S[j], w[j], fmaf(sa, b[j], v * k[j])); y = fmaf(S[j], r[j], y); }
#pragma unroll
    for (int j = 0; j < 64; j += 4) *(float4*)(row + j) = make_float4(S[j], S[j + 1], S[j + 2], S[j + 3]);

    float out;
    head_output<1>(&y, &r[i], &k[i], &v, &p.r_k[h * 64 + i], &p.lnx_w[h * 64 + i], &p.lnx_b[h * 64 + i], &p.g[idx], &out, BlockSum{scratch});
    if (p.y_type == 1) ((bf16*)p.y)[idx] = from_float<bf16>(out);
    else if (p.y_type == 2) ((f16*)p.y)[idx] = from_float<f16>(out);
    else ((float*)p.y)[idx] = out;
}

// The channel mix's hidden activation between two cuBLAS projections: out = relu(h)² in the model dtype.
struct SquaredReluArgs { const float* h; void* out; long n; };

template <typename W>
__device__ void squared_relu(const SquaredReluArgs& p)
{
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < p.n; i += (long)gridDim.x * blockDim.x)
    {
        const float r = fmaxf(p.h[i], 0.f);
        ((W*)p.out)[i] = from_float<W>(r * r);
    }
}
extern "C" __global__ void squared_relu_bf16(SquaredReluArgs p) { squared_relu<bf16>(p); }
extern "C" __global__ void squared_relu_f16(SquaredReluArgs p) { squared_relu<f16>(p); }

// The same over a prompt, in place on the key projection's output in the model dtype: one pass where relu and then
// square are two.
struct SquaredReluInPlaceArgs { void* h; long n; };

template <typename W>
__device__ void squared_relu_in_place(const SquaredReluInPlaceArgs& p)  // n a multiple of 8
{
    W* h = (W*)p.h;
    for (long i = ((long)blockIdx.x * blockDim.x + threadIdx.x) * 8; i < p.n; i += (long)gridDim.x * blockDim.x * 8)
    {
        float x[8];
        load8(h + i, x);
#pragma unroll
        for (int j = 0; j < 8; j++) x[j] = fmaxf(x[j], 0.f) * fmaxf(x[j], 0.f);
        store8(h + i, x);
    }
}
extern "C" __global__ void squared_relu_in_place_bf16(SquaredReluInPlaceArgs p) { squared_relu_in_place<bf16>(p); }
extern "C" __global__ void squared_relu_in_place_f16(SquaredReluInPlaceArgs p) { squared_relu_in_place<f16>(p); }
extern "C" __global__ void squared_relu_in_place_f32(SquaredReluInPlaceArgs p) { squared_relu_in_place<float>(p); }


// ---------------------------------------------------------------------------------------------------------------
// Prefill around the scan: the time mix's elementwise work over a whole prompt [B, T, C] in three passes instead
// of some forty tensor operations, each of which reads and writes the whole activation.
// ---------------------------------------------------------------------------------------------------------------

// out[m, b, t, c] = x + (x₋₁ - x) · mix[m, c], x₋₁ the previous token's x (the carried shift[b, c] for t = 0).
// The host stores the last token's x into the shift afterwards.
struct ShiftMixPrefillArgs
{
    const void* x;      // [B, T, C] model dtype (the LayerNorm's output)
    const void* shift;  // [B, C] model dtype
    const float* mix;   // [M, C]
    void* out;          // [M, B, T, C] model dtype
    int B, T, C, M;
};

template <typename W>
__device__ void shift_mix_prefill(const ShiftMixPrefillArgs& p)  // one token per block, 8 channels per thread
{
    const int row = blockIdx.x, t = row % p.T, b = row / p.T;  // row = b T + t
    const long n = (long)p.B * p.T * p.C;
    const W* x = (const W*)p.x + (long)row * p.C;
    const W* before = t > 0 ? x - p.C : (const W*)p.shift + (long)b * p.C;
    for (int c = threadIdx.x * 8; c < p.C; c += blockDim.x * 8)
    {
        float now[8], previous[8], mix[8], out[8];
        load8(x + c, now);
        load8(before + c, previous);
        for (int m = 0; m < p.M; m++)
        {
            load8(p.mix + (long)m * p.C + c, mix);
#pragma unroll
            for (int j = 0; j < 8; j++) out[j] = fmaf(previous[j] - now[j], mix[j], now[j]);
            store8((W*)p.out + m * n + (long)row * p.C + c, out);
        }
    }
}
extern "C" __global__ void shift_mix_prefill_bf16(ShiftMixPrefillArgs p) { shift_mix_prefill<bf16>(p); }
extern "C" __global__ void shift_mix_prefill_f16(ShiftMixPrefillArgs p) { shift_mix_prefill<f16>(p); }
extern "C" __global__ void shift_mix_prefill_f32(ShiftMixPrefillArgs p) { shift_mix_prefill<float>(p); }

// The WKV scan's inputs from the projections, one (token, head) per warp, two channels per lane: r; log w from the
// decay LoRA; k', a = -kk, b = kk·a from the learning-rate LoRA (head_inputs); v mixed towards layer 0's values.
struct WkvInputsArgs
{
    const void* r; const void* k; const void* v;  // [B, T, C] model dtype: the projections
    const void* w_lora;                            // [B, T, C] tanh(x_w W1) W2
    const void* a_lora;                            // [B, T, C] x_a A1 A2
    const void* v_lora;                            // [B, T, C] x_v V1 V2, null in layer 0
    void* v_first;                                 // [B, T, C] model dtype: layer 0 writes its v, later layers read it
    const float* w0; const float* a0; const float* v0; const float* k_k; const float* k_a;  // [C]
    float* r_out; float* logw; float* k_out; float* v_out; float* a_out; float* b_out;       // [B, T, C] fp32
    int H, heads;                                  // heads = B T H
};

template <typename W>
__device__ void wkv_inputs(const WkvInputsArgs& p)
{
    const int unit = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);  // (b T + t) H + h
    if (unit >= p.heads) return;
    const int c = (unit % p.H) * 64 + 2 * (threadIdx.x & 31);
    const long e = (long)unit * 64 + 2 * (threadIdx.x & 31);
    float r[2], k[2], v[2], w[2], gate[2], k_k[2], k_a[2], k_out[2], a[2], b[2];
    load2((const W*)p.r + e, r); load2((const W*)p.k + e, k); load2((const W*)p.v + e, v);
    load2((const W*)p.w_lora + e, w); load2((const W*)p.a_lora + e, gate);
    load2(p.k_k + c, k_k); load2(p.k_a + c, k_a);
#pragma unroll
    for (int i = 0; i < 2; i++)
    {
        gate[i] = 1.f / (1.f + __expf(-(p.a0[c + i] + gate[i])));
        w[i] = activate(p.w0[c + i] + w[i], ACT_LOG_DECAY);
    }
    head_inputs<2>(k, gate, k_k, k_a, k_out, a, b, WarpSum{});
    if (p.v_lora)
    {
        float first[2], lora[2];
        load2((const W*)p.v_first + e, first); load2((const W*)p.v_lora + e, lora);
#pragma unroll
        for (int i = 0; i < 2; i++) v[i] += (first[i] - v[i]) / (1.f + __expf(-(p.v0[c + i] + lora[i])));
    }
    else store2((W*)p.v_first + e, v);  // exact: v is the projection as loaded
    store2(p.r_out + e, r); store2(p.logw + e, w); store2(p.k_out + e, k_out);
    store2(p.v_out + e, v); store2(p.a_out + e, a); store2(p.b_out + e, b);
}
extern "C" __global__ void wkv_inputs_bf16(WkvInputsArgs p) { wkv_inputs<bf16>(p); }
extern "C" __global__ void wkv_inputs_f16(WkvInputsArgs p) { wkv_inputs<f16>(p); }
extern "C" __global__ void wkv_inputs_f32(WkvInputsArgs p) { wkv_inputs<float>(p); }

// The scan's output to the output projection's input, one (token, head) per warp, two channels per lane: head_output.
struct WkvOutputArgs
{
    const float* y; const float* r; const float* k; const float* v;  // [B, T, C] fp32: the scan's y and inputs
    const void* g;                                                  // [B, T, C] model dtype: the gate
    const float* r_k; const float* lnx_w; const float* lnx_b;       // [C]
    void* out;                                                      // [B, T, C] model dtype
    int H, heads;                                                   // heads = B T H
};

template <typename W>
__device__ void wkv_output(const WkvOutputArgs& p)
{
    const int unit = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (unit >= p.heads) return;
    const int c = (unit % p.H) * 64 + 2 * (threadIdx.x & 31);
    const long e = (long)unit * 64 + 2 * (threadIdx.x & 31);
    float y[2], r[2], k[2], v[2], g[2], r_k[2], lnx_w[2], lnx_b[2], out[2];
    load2(p.y + e, y); load2(p.r + e, r); load2(p.k + e, k); load2(p.v + e, v); load2((const W*)p.g + e, g);
    load2(p.r_k + c, r_k); load2(p.lnx_w + c, lnx_w); load2(p.lnx_b + c, lnx_b);
    head_output<2>(y, r, k, v, r_k, lnx_w, lnx_b, g, out, WarpSum{});
    store2((W*)p.out + e, out);
}
extern "C" __global__ void wkv_output_bf16(WkvOutputArgs p) { wkv_output<bf16>(p); }
extern "C" __global__ void wkv_output_f16(WkvOutputArgs p) { wkv_output<f16>(p); }
extern "C" __global__ void wkv_output_f32(WkvOutputArgs p) { wkv_output<float>(p); }
