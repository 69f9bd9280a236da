using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using TorchSharp;
using static Rag.Generator.Kernels.CudaDriver;

namespace Rag.Generator.Kernels;

/// <summary>
/// A compiled kernel module loaded into the primary CUDA context of one device (the context libtorch uses), with
/// launches on libtorch's stream (the legacy default stream, handle 0) so they are ordered with its operations.
/// </summary>
internal sealed unsafe class CudaModule
{
    private static readonly ConcurrentDictionary<(int Device, string File), Lazy<CudaModule>> Loaded = new();

    private readonly IntPtr _context;
    private readonly IntPtr _module;
    private readonly ConcurrentDictionary<string, IntPtr> _functions = new();

    private CudaModule(IntPtr context, IntPtr module, string architecture, string nvrtc)
    {
        (_context, _module, Architecture, Compiler) = (context, module, architecture, nvrtc);
    }

    public string Architecture { get; }

    /// <summary>The NVRTC that compiled the module (path and version), for diagnostics.</summary>
    public string Compiler { get; }

    /// <summary>The module of <paramref name="fileName"/> on CUDA device <paramref name="ordinal"/>, loaded once per process.</summary>
    public static CudaModule Get(int ordinal, string fileName, string? nvrtcPath, string? cacheDirectory)
    {
        var lazy = Loaded.GetOrAdd((ordinal, fileName), key => new Lazy<CudaModule>(() => Load(key.Device, key.File, nvrtcPath, cacheDirectory)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Loaded.TryRemove(new((ordinal, fileName), lazy));  // let a later model try again (e.g. after a setting changed)
            throw;
        }
    }

    private static CudaModule Load(int ordinal, string fileName, string? nvrtcPath, string? cacheDirectory)
    {
        if (!IsInstalled) throw new KernelsUnavailableException("The NVIDIA driver's libcuda.so.1 was not found.");
        Check(cuInit(0), "cuInit");
        Check(cuDeviceGet(out int device, ordinal), "cuDeviceGet");
        Check(cuDeviceGetAttribute(out int major, AttributeComputeCapabilityMajor, device), "cuDeviceGetAttribute");
        Check(cuDeviceGetAttribute(out int minor, AttributeComputeCapabilityMinor, device), "cuDeviceGetAttribute");
        var architecture = $"sm_{major}{minor}";
        var nvrtc = Nvrtc.Find(nvrtcPath);
        var cubin = KernelCompiler.CompileCached(nvrtc, fileName, architecture, cacheDirectory);
        Check(cuDevicePrimaryCtxRetain(out var context, device), "cuDevicePrimaryCtxRetain");
        Check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
        IntPtr module;
        fixed (byte* image = cubin) Check(cuModuleLoadData(out module, image), "cuModuleLoadData");
        return new CudaModule(context, module, architecture, $"NVRTC {nvrtc.Version} ({nvrtc.Path})");
    }

    /// <summary>Makes the device's context current on this thread (async callers move between threads).</summary>
    public void MakeCurrent() => Check(cuCtxSetCurrent(_context), "cuCtxSetCurrent");

    /// <summary>
    /// Launches <paramref name="kernel"/>, whose one parameter is the struct <paramref name="args"/>, with
    /// <paramref name="sharedBytes"/> of dynamic shared memory (a kernel allowed more than 48 KiB on its first launch).
    /// </summary>
    public void Launch<TArgs>(string kernel, int grid, int block, in TArgs args, IntPtr stream = default, int sharedBytes = 0)
        where TArgs : unmanaged
    {
        var function = _functions.GetOrAdd(kernel, name =>
        {
            Check(cuModuleGetFunction(out var f, _module, name), $"cuModuleGetFunction({name})");
            if (sharedBytes > DefaultSharedLimit)
                Check(cuFuncSetAttribute(f, MaxDynamicSharedSizeBytes, sharedBytes), $"cuFuncSetAttribute({name}, {sharedBytes} bytes of shared memory)");
            return f;
        });
        fixed (TArgs* p = &args)
        {
            void* parameter = p;
            Check(cuLaunchKernel(function, (uint)grid, 1, 1, (uint)block, 1, 1, (uint)sharedBytes, stream, &parameter, null), $"cuLaunchKernel({kernel})");
        }
    }

    private const int DefaultSharedLimit = 48 * 1024;      // what a launch gets without asking
    private const int MaxDynamicSharedSizeBytes = 8;       // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES

    /// <summary>The device address of a tensor's first element (TorchSharp does not expose it).</summary>
    public static IntPtr Address(torch.Tensor tensor) => THSTensor_data(tensor.Handle);

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);
}
