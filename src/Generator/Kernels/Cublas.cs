using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Kernels;

/// <summary>
/// cuBLAS for the decode step's projections when several sequences decode at once: its GEMMs read each weight once
/// for the whole batch at near the memory rate (measured on an H200: the 1.5b step's large matrices take 1.3 ms at 1
/// and at 64 sequences, where a one-warp-per-row GEMV takes 1.4 ms per layer at 64). The library is the one libtorch
/// already loaded (same soname), else the first found where the CUDA libraries are; calls go to a stream of ours
/// and are captured in the decode graph, with a workspace of ours so capture allocates nothing.
/// </summary>
internal sealed unsafe class Cublas : IDisposable
{
    private const int OperationNone = 0, OperationTranspose = 1;
    private const int ComputeFp32 = 68;     // CUBLAS_COMPUTE_32F
    private const int TypeFp32 = 0, TypeFp16 = 2, TypeBf16 = 14;  // cudaDataType
    private const int DefaultAlgorithm = -1;
    private const long WorkspaceBytes = 32L << 20;

    private readonly delegate* unmanaged<IntPtr, IntPtr, int> _setStream;
    private readonly delegate* unmanaged<IntPtr, int, int, int, int, int, float*, IntPtr, int, int, IntPtr, int, int, float*, IntPtr, int, int, int, int, int> _gemmEx;
    private readonly delegate* unmanaged<IntPtr, int> _destroy;
    private readonly IntPtr _handle;
    private readonly Tensor _workspace;

    private Cublas(string path, IntPtr library, Device device)
    {
        Path = path;
        var create = (delegate* unmanaged<IntPtr*, int>)NativeLibrary.GetExport(library, "cublasCreate_v2");
        var setWorkspace = (delegate* unmanaged<IntPtr, IntPtr, nuint, int>)NativeLibrary.GetExport(library, "cublasSetWorkspace_v2");
        _setStream = (delegate* unmanaged<IntPtr, IntPtr, int>)NativeLibrary.GetExport(library, "cublasSetStream_v2");
        _gemmEx = (delegate* unmanaged<IntPtr, int, int, int, int, int, float*, IntPtr, int, int, IntPtr, int, int, float*, IntPtr, int, int, int, int, int>)
            NativeLibrary.GetExport(library, "cublasGemmEx");
        _destroy = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "cublasDestroy_v2");
        IntPtr handle;
        Check(create(&handle), "cublasCreate");
        _handle = handle;
        _workspace = empty([WorkspaceBytes], ScalarType.Byte, device).DetachFromDisposeScope();
        Check(setWorkspace(_handle, CudaModule.Address(_workspace), (nuint)WorkspaceBytes), "cublasSetWorkspace");
    }

    public string Path { get; }

    /// <summary>cuBLAS on <paramref name="device"/> (whose context must be current), or null when no cuBLAS is found.</summary>
    public static Cublas? TryCreate(Device device)
    {
        string[] loaded = ["libcublas.so.13", "libcublas.so.12"];
        var found = CudaLibraries.InFolders(CudaLibraries.SearchFolders(), "libcublas.so*");
        foreach (var candidate in loaded.Concat(found))
            if (NativeLibrary.TryLoad(candidate, out var library) && NativeLibrary.TryGetExport(library, "cublasGemmEx", out _))
                return new Cublas(candidate, library, device);
        return null;
    }

    /// <summary>Queues y[B, N] = x[B, K] · w[N, K]ᵀ (+ y when <paramref name="accumulate"/>) on <paramref name="stream"/>:
    /// w and x 16-bit (<paramref name="suffix"/> names which), fp32 sums, y fp32.</summary>
    public void Gemm(IntPtr stream, string suffix, IntPtr w, IntPtr x, IntPtr y, int batch, int n, int k, bool accumulate)
    {
        int type = suffix == "bf16" ? TypeBf16 : suffix == "f16" ? TypeFp16 : throw new ArgumentException($"cuBLAS projections take 16-bit weights, not {suffix}.", nameof(suffix));
        float alpha = 1, beta = accumulate ? 1 : 0;
        Check(_setStream(_handle, stream), "cublasSetStream");
        // Column-major view: yᵀ [N, B] = w [K, N]ᵀ · xᵀ [K, B].
        Check(_gemmEx(_handle, OperationTranspose, OperationNone, n, batch, k, &alpha, w, type, k, x, type, k, &beta, y, TypeFp32, n,
            ComputeFp32, DefaultAlgorithm), "cublasGemmEx");
    }

    private static void Check(int status, string call)
    {
        if (status != 0) throw new KernelsUnavailableException($"cuBLAS call {call} failed with status {status}.");
    }

    public void Dispose()
    {
        _destroy(_handle);
        _workspace.Dispose();
    }
}
