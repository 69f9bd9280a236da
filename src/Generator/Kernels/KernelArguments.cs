using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Rag.Generator.Kernels;

// The argument structs of rwkv7.cu, field for field (sequential layout matches the C structs' padding).
#pragma warning disable CS0649  // fields are set through object initialisers and read by the GPU

[StructLayout(LayoutKind.Sequential)]
internal struct WkvPrefillArgs
{
    public IntPtr R, LogW, K, A, B, V, State, Y;
    public int T, H;
}

[StructLayout(LayoutKind.Sequential)]
internal struct EmbedArgs
{
    public IntPtr Embedding, Tokens, X;
    public int C;
}

[StructLayout(LayoutKind.Sequential)]
internal struct ShiftMixArgs
{
    public IntPtr X, LnWeight, LnBias, Table;
    public int ShiftSlot;
    public IntPtr Mix, Out;
    public int B, C, M, OutHalf;
}

internal enum Activation { None = 0, Tanh = 1, Sigmoid = 2, ReluSquared = 3, LogDecay = 4 }

[StructLayout(LayoutKind.Sequential)]
internal struct GemvJob
{
    public IntPtr W, X, Y, Bias;
    public int N, K;
    public Activation Act;
    public int Accumulate;
    public Activation InAct;
}

[InlineArray(GemvArgs.MaxJobs)]
internal struct GemvJobs
{
    private GemvJob _first;
}

[StructLayout(LayoutKind.Sequential)]
internal struct GemvArgs
{
    public const int MaxJobs = 8;
    public const int WarpsPerBlock = 8;  // gemv: 256 threads, one warp per output row
    public const int WideK = 512;        // from this many columns rows go to gemv_wide (two loads in flight per lane)
    public const int GemmRows = 16;      // gemm: 128 threads, 16 output rows per block (rwkv7.cu GEMM_ROWS)
    public const int GemmMaxBatch = 64;  // rwkv7.cu GEMM_MAX_B

    public GemvJobs Jobs;
    public int Count, B;

    public GemvArgs(int batch, params GemvJob[] jobs)
    {
        if (jobs.Length > MaxJobs) throw new ArgumentOutOfRangeException(nameof(jobs), jobs.Length, $"At most {MaxJobs} matrices per launch.");
        for (int i = 0; i < jobs.Length; i++) Jobs[i] = jobs[i];
        (Count, B) = (jobs.Length, batch);
    }

    public static int GemvBlocks(IEnumerable<GemvJob> jobs) => (jobs.Sum(j => j.N) + WarpsPerBlock - 1) / WarpsPerBlock;

    public static int GemmBlocks(IEnumerable<GemvJob> jobs) => jobs.Sum(j => (j.N + GemmRows - 1) / GemmRows);
}

[StructLayout(LayoutKind.Sequential)]
internal struct WkvDecodeArgs
{
    public IntPtr R, K, V, LogW, A, G, VResidual, VFirst, KK, KA, RK, LnXWeight, LnXBias, Y, Table;
    public int WkvSlot, H, YType;
}

[StructLayout(LayoutKind.Sequential)]
internal struct SquaredReluArgs
{
    public IntPtr H, Out;
    public long N;
}

[StructLayout(LayoutKind.Sequential)]
internal struct SquaredReluInPlaceArgs
{
    public IntPtr H;
    public long N;
}

[StructLayout(LayoutKind.Sequential)]
internal struct ShiftMixPrefillArgs
{
    public IntPtr X, Shift, Mix, Out;
    public int B, T, C, M;
}

[StructLayout(LayoutKind.Sequential)]
internal struct WkvInputsArgs
{
    public IntPtr R, K, V, WLora, ALora, VLora, VFirst, W0, A0, V0, KK, KA, ROut, LogW, KOut, VOut, AOut, BOut;
    public int H, Heads;
}

[StructLayout(LayoutKind.Sequential)]
internal struct WkvOutputArgs
{
    public IntPtr Y, R, K, V, G, RK, LnXWeight, LnXBias, Out;
    public int H, Heads;
}
