using System.Runtime.InteropServices;

namespace Rag.Generator.Kernels;

/// <summary>
/// The few CUDA driver API calls the kernels need, from libcuda (installed with the NVIDIA driver; no toolkit).
/// Every call is checked: a failure throws <see cref="KernelsUnavailableException"/> naming the call and the error.
/// </summary>
internal static unsafe partial class CudaDriver
{
    private const string Library = "libcuda.so.1";

    public const uint StreamNonBlocking = 1;
    public const int CaptureModeRelaxed = 2;  // other threads (libtorch's allocator) may call the runtime meanwhile
    public const uint EventDisableTiming = 2;

    public static bool IsInstalled => NativeLibrary.TryLoad(Library, out _);

    public static void Check(int result, string call)
    {
        if (result == 0) return;
        string name = "unknown";
        if (cuGetErrorName(result, out var text) == 0 && text != IntPtr.Zero) name = Marshal.PtrToStringAnsi(text) ?? name;
        throw new KernelsUnavailableException($"CUDA driver call {call} failed with {name} ({result}).");
    }

    [LibraryImport(Library)] public static partial int cuInit(uint flags);
    [LibraryImport(Library)] public static partial int cuDriverGetVersion(out int version);
    [LibraryImport(Library)] public static partial int cuDeviceGet(out int device, int ordinal);
    [LibraryImport(Library)] public static partial int cuDeviceGetAttribute(out int value, int attribute, int device);
    [LibraryImport(Library)] public static partial int cuDevicePrimaryCtxRetain(out IntPtr context, int device);
    [LibraryImport(Library)] public static partial int cuCtxSetCurrent(IntPtr context);
    [LibraryImport(Library)] public static partial int cuModuleLoadData(out IntPtr module, byte* image);
    [LibraryImport(Library)] public static partial int cuModuleGetFunction(out IntPtr function, IntPtr module, [MarshalAs(UnmanagedType.LPStr)] string name);
    [LibraryImport(Library)] public static partial int cuFuncSetAttribute(IntPtr function, int attribute, int value);
    [LibraryImport(Library)]
    public static partial int cuLaunchKernel(IntPtr function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, IntPtr stream, void** parameters, void** extra);
    [LibraryImport(Library)] public static partial int cuStreamCreate(out IntPtr stream, uint flags);
    [LibraryImport(Library, EntryPoint = "cuStreamBeginCapture_v2")] public static partial int cuStreamBeginCapture(IntPtr stream, int mode);
    [LibraryImport(Library)] public static partial int cuStreamEndCapture(IntPtr stream, out IntPtr graph);
    [LibraryImport(Library)] public static partial int cuGraphInstantiateWithFlags(out IntPtr executable, IntPtr graph, ulong flags);
    [LibraryImport(Library)] public static partial int cuGraphLaunch(IntPtr executable, IntPtr stream);
    [LibraryImport(Library)] public static partial int cuGraphExecDestroy(IntPtr executable);
    [LibraryImport(Library)] public static partial int cuGraphDestroy(IntPtr graph);
    [LibraryImport(Library, EntryPoint = "cuStreamDestroy_v2")] public static partial int cuStreamDestroy(IntPtr stream);
    [LibraryImport(Library, EntryPoint = "cuEventDestroy_v2")] public static partial int cuEventDestroy(IntPtr @event);
    [LibraryImport(Library)] public static partial int cuEventCreate(out IntPtr @event, uint flags);
    [LibraryImport(Library)] public static partial int cuEventRecord(IntPtr @event, IntPtr stream);
    [LibraryImport(Library)] public static partial int cuStreamWaitEvent(IntPtr stream, IntPtr @event, uint flags);
    [LibraryImport(Library)] private static partial int cuGetErrorName(int error, out IntPtr name);

    public const int AttributeComputeCapabilityMajor = 75;
    public const int AttributeComputeCapabilityMinor = 76;
}
