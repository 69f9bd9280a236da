using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Rag.Generator.Kernels;

/// <summary>
/// Compiles the embedded CUDA sources with NVRTC for the GPU at hand, keeping each binary on disk so that only the
/// first run on a machine pays for compilation. A binary is keyed by the source, the target architecture, the
/// compiler options and the NVRTC version: changing any of them compiles afresh.
/// </summary>
internal static class KernelCompiler
{
    public static readonly IReadOnlyList<string> Options = ["--std=c++17", "-lineinfo"];

    /// <summary>The source of an embedded kernel file, e.g. "rwkv7.cu".</summary>
    public static string Source(string fileName)
    {
        var assembly = typeof(KernelCompiler).Assembly;
        using var stream = assembly.GetManifestResourceStream($"Rag.Generator.Kernels.{fileName}")
            ?? throw new InvalidOperationException($"Kernel source {fileName} is not embedded in {assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static string CacheKey(string source, string architecture, IReadOnlyList<string> options, string nvrtcVersion)
    {
        var text = string.Join("\n", [source, architecture, .. options, nvrtcVersion]);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>$XDG_CACHE_HOME/rag/kernels, else ~/.cache/rag/kernels (the folder Generator:KernelCacheDirectory replaces).</summary>
    public static string DefaultCacheDirectory()
    {
        var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "rag", "kernels");
    }

    public static byte[] CompileCached(Nvrtc nvrtc, string fileName, string architecture, string? cacheDirectory)
    {
        var source = Source(fileName);
        var folder = string.IsNullOrWhiteSpace(cacheDirectory) ? DefaultCacheDirectory() : cacheDirectory;
        var file = Path.Combine(folder, $"{Path.GetFileNameWithoutExtension(fileName)}-{architecture}-{CacheKey(source, architecture, Options, nvrtc.Version)[..16]}.cubin");
        if (File.Exists(file)) return File.ReadAllBytes(file);
        var cubin = nvrtc.Compile(source, fileName, architecture, Options);
        try
        {
            // Written aside and moved into place, so a concurrent or interrupted run never reads half a binary.
            Directory.CreateDirectory(folder);
            var temporary = $"{file}.{Environment.ProcessId}.tmp";
            File.WriteAllBytes(temporary, cubin);
            File.Move(temporary, file, overwrite: true);
        }
        catch (IOException) { }                 // an unwritable cache only costs the next run a compilation
        catch (UnauthorizedAccessException) { }
        return cubin;
    }
}
