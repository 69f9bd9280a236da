using System.Text;

namespace Rag.Ingest.Tests;

/// <summary>A fresh folder under the system temp folder, deleted with everything in it on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rag-ingest-" + Guid.NewGuid().ToString("N"));

    public string Write(string relativePath, byte[] content)
    {
        string path = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    public string Write(string relativePath, string text) => Write(relativePath, Encoding.UTF8.GetBytes(text));

    /// <summary>A symbolic link at <paramref name="relativePath"/>; a folder link when the target (relative to the link's folder) is a folder.</summary>
    public string Link(string relativePath, string target)
    {
        string path = System.IO.Path.Combine(Path, relativePath);
        string folder = System.IO.Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        if (Directory.Exists(System.IO.Path.Combine(folder, target)))
            Directory.CreateSymbolicLink(path, target);
        else
            File.CreateSymbolicLink(path, target);
        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
