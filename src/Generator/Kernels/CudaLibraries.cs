namespace Rag.Generator.Kernels;

/// <summary>
/// Where the user's CUDA libraries are when no toolkit is installed: TorchSharp-cuda-linux puts them next to the
/// application, PyTorch in site-packages/nvidia/*/lib next to torch/lib (which LD_LIBRARY_PATH names for libtorch).
/// </summary>
internal static class CudaLibraries
{
    /// <summary>In search order: <paramref name="configuredPath"/> (a file's folder, or a folder), CUDA_HOME / CUDA_PATH,
    /// LD_LIBRARY_PATH, the application folder, PyTorch's nvidia/*/lib.</summary>
    public static List<string> SearchFolders(string? configuredPath = null)
    {
        var folders = new List<string>();
        if (!string.IsNullOrWhiteSpace(configuredPath))
            folders.Add(File.Exists(configuredPath) ? Path.GetDirectoryName(Path.GetFullPath(configuredPath))! : configuredPath);
        foreach (var variable in new[] { "CUDA_HOME", "CUDA_PATH" })
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } home)
                folders.AddRange([Path.Combine(home, "lib64"), Path.Combine(home, "lib")]);
        var libraryPath = (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        folders.AddRange(libraryPath);
        folders.Add(AppContext.BaseDirectory);
        folders.Add(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"));
        foreach (var folder in libraryPath.Where(f => f.TrimEnd('/').EndsWith("torch/lib", StringComparison.Ordinal)))
        {
            var nvidia = Path.GetFullPath(Path.Combine(folder, "..", "..", "nvidia"));
            if (Directory.Exists(nvidia)) folders.AddRange(Directory.GetDirectories(nvidia).Select(d => Path.Combine(d, "lib")));
        }
        return folders.Distinct().ToList();
    }

    /// <summary>Files matching <paramref name="pattern"/> in the folders that exist, newest version first within a folder.</summary>
    public static IEnumerable<string> InFolders(IEnumerable<string> folders, string pattern) =>
        folders.Where(Directory.Exists).SelectMany(folder => Directory.GetFiles(folder, pattern).OrderByDescending(f => f, StringComparer.Ordinal));
}
