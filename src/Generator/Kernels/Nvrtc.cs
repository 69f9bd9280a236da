using System.Runtime.InteropServices;
using System.Text;

namespace Rag.Generator.Kernels;

/// <summary>
/// NVRTC, the CUDA runtime compiler, loaded from wherever the user's CUDA libraries are (see <see cref="Find"/>):
/// TorchSharp-cuda-linux and PyTorch both ship it, so no CUDA toolkit is needed.
/// </summary>
internal sealed unsafe class Nvrtc
{
    private readonly delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int> _createProgram;
    private readonly delegate* unmanaged<IntPtr, int, byte**, int> _compileProgram;
    private readonly delegate* unmanaged<IntPtr, nuint*, int> _getProgramLogSize;
    private readonly delegate* unmanaged<IntPtr, byte*, int> _getProgramLog;
    private readonly delegate* unmanaged<IntPtr, nuint*, int> _getCubinSize;
    private readonly delegate* unmanaged<IntPtr, byte*, int> _getCubin;
    private readonly delegate* unmanaged<IntPtr*, int> _destroyProgram;

    private Nvrtc(string path, IntPtr library)
    {
        Path = path;
        _createProgram = (delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int>)NativeLibrary.GetExport(library, "nvrtcCreateProgram");
        _compileProgram = (delegate* unmanaged<IntPtr, int, byte**, int>)NativeLibrary.GetExport(library, "nvrtcCompileProgram");
        _getProgramLogSize = (delegate* unmanaged<IntPtr, nuint*, int>)NativeLibrary.GetExport(library, "nvrtcGetProgramLogSize");
        _getProgramLog = (delegate* unmanaged<IntPtr, byte*, int>)NativeLibrary.GetExport(library, "nvrtcGetProgramLog");
        _getCubinSize = (delegate* unmanaged<IntPtr, nuint*, int>)NativeLibrary.GetExport(library, "nvrtcGetCUBINSize");
        _getCubin = (delegate* unmanaged<IntPtr, byte*, int>)NativeLibrary.GetExport(library, "nvrtcGetCUBIN");
        _destroyProgram = (delegate* unmanaged<IntPtr*, int>)NativeLibrary.GetExport(library, "nvrtcDestroyProgram");
        var version = (delegate* unmanaged<int*, int*, int>)NativeLibrary.GetExport(library, "nvrtcVersion");
        int major, minor;
        version(&major, &minor);
        Version = $"{major}.{minor}";
    }

    public string Path { get; }

    public string Version { get; }

    /// <summary>
    /// Loads the first NVRTC found, in this order: <paramref name="configuredPath"/> (Generator:NvrtcPath, a file or a
    /// folder); CUDA_HOME / CUDA_PATH; the folders of LD_LIBRARY_PATH; folders next to this application (where
    /// TorchSharp-cuda-linux puts its native libraries) and next to a PyTorch install (site-packages/nvidia/*/lib);
    /// then the system loader's own search.
    /// </summary>
    public static Nvrtc Find(string? configuredPath)
    {
        var folders = CudaLibraries.SearchFolders(configuredPath);
        foreach (var candidate in Candidates(configuredPath, folders))
            if (NativeLibrary.TryLoad(candidate, out var library)) return new Nvrtc(candidate, library);
        throw new KernelsUnavailableException(
            $"NVRTC (libnvrtc.so) was not found in {string.Join(", ", folders)} or on the system library path: " +
            "install TorchSharp-cuda-linux or PyTorch (with CUDA), or set Generator:NvrtcPath.");
    }

    private static IEnumerable<string> Candidates(string? configuredPath, IEnumerable<string> folders)
    {
        if (File.Exists(configuredPath)) yield return System.IO.Path.GetFullPath(configuredPath);
        // The builtins library is NVRTC's own dependency, not NVRTC.
        foreach (var file in CudaLibraries.InFolders(folders, "libnvrtc*.so*").Where(f => !System.IO.Path.GetFileName(f).Contains("builtins") && !System.IO.Path.GetFileName(f).Contains(".alt.")))
            yield return file;
        foreach (var name in new[] { "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so" }) yield return name;
    }

    /// <summary>Compiles <paramref name="source"/> to a cubin for <paramref name="architecture"/> (e.g. "sm_90").</summary>
    public byte[] Compile(string source, string name, string architecture, IReadOnlyList<string> options)
    {
        IntPtr program;
        var sourceBytes = Encoding.UTF8.GetBytes(source + "\0");
        var nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* s = sourceBytes, n = nameBytes) Check(_createProgram(&program, s, n, 0, null, null), "nvrtcCreateProgram");
        try
        {
            var all = options.Prepend($"--gpu-architecture={architecture}").Select(o => Encoding.UTF8.GetBytes(o + "\0")).ToArray();
            var handles = all.Select(o => GCHandle.Alloc(o, GCHandleType.Pinned)).ToArray();
            int result;
            try
            {
                var pointers = stackalloc byte*[all.Length];
                for (int i = 0; i < all.Length; i++) pointers[i] = (byte*)handles[i].AddrOfPinnedObject();
                result = _compileProgram(program, all.Length, pointers);
            }
            finally
            {
                foreach (var h in handles) h.Free();
            }
            if (result != 0)
            {
                var log = Log(program).Split('\n').FirstOrDefault(l => l.Contains("error")) ?? $"NVRTC error {result}";
                throw new KernelsUnavailableException($"NVRTC {Version} could not compile {name} for {architecture}: {log.Trim()}");
            }
            nuint size;
            Check(_getCubinSize(program, &size), "nvrtcGetCUBINSize");
            var cubin = new byte[size];
            fixed (byte* c = cubin) Check(_getCubin(program, c), "nvrtcGetCUBIN");
            return cubin;
        }
        finally
        {
            _destroyProgram(&program);
        }
    }

    private string Log(IntPtr program)
    {
        nuint size;
        if (_getProgramLogSize(program, &size) != 0 || size == 0) return "";
        var log = new byte[size];
        fixed (byte* l = log) _getProgramLog(program, l);
        return Encoding.UTF8.GetString(log).TrimEnd('\0');
    }

    private void Check(int result, string call)
    {
        if (result != 0) throw new KernelsUnavailableException($"NVRTC {Version} call {call} failed with error {result}.");
    }
}
