using System.Runtime.InteropServices;

namespace Rag.Generator.Benchmarks;

/// <summary>
/// Peak GPU memory from the CUDA driver's default memory pool. TorchSharp exposes no allocator
/// statistics, but with PYTORCH_CUDA_ALLOC_CONF=backend:cudaMallocAsync libtorch allocates from that
/// pool, whose used-memory high-water mark can be read and reset. Null when the driver or the pool
/// is not available (CPU runs, or the native caching allocator in use).
/// </summary>
internal static partial class CudaMemoryStats
{
    private const int UsedMemHigh = 8;    // CU_MEMPOOL_ATTR_USED_MEM_HIGH
    private const int UsedMemCurrent = 7; // CU_MEMPOOL_ATTR_USED_MEM_CURRENT

    public static bool UsesAsyncAllocator =>
        Environment.GetEnvironmentVariable("PYTORCH_CUDA_ALLOC_CONF")?.Contains("cudaMallocAsync", StringComparison.Ordinal) == true;

    public static void ResetPeak()
    {
        if (Pool() is not { } pool) return;
        ulong zero = 0;
        _ = cuMemPoolSetAttribute(pool, UsedMemHigh, ref zero);
    }

    /// <summary>Bytes in use at the high-water mark since the last <see cref="ResetPeak"/>.</summary>
    public static long? PeakBytes() => Read(UsedMemHigh);

    public static long? CurrentBytes() => Read(UsedMemCurrent);

    private static long? Read(int attribute)
    {
        if (Pool() is not { } pool) return null;
        return cuMemPoolGetAttribute(pool, attribute, out ulong value) == 0 ? (long)value : null;
    }

    private static IntPtr? Pool()
    {
        if (!UsesAsyncAllocator) return null;
        try
        {
            if (cuDeviceGet(out int device, 0) != 0) return null;
            return cuDeviceGetDefaultMemPool(out IntPtr pool, device) == 0 ? pool : null;
        }
        catch (DllNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport("libcuda.so.1")]
    private static partial int cuDeviceGet(out int device, int ordinal);

    [LibraryImport("libcuda.so.1")]
    private static partial int cuDeviceGetDefaultMemPool(out IntPtr pool, int device);

    [LibraryImport("libcuda.so.1")]
    private static partial int cuMemPoolGetAttribute(IntPtr pool, int attribute, out ulong value);

    [LibraryImport("libcuda.so.1")]
    private static partial int cuMemPoolSetAttribute(IntPtr pool, int attribute, ref ulong value);
}
