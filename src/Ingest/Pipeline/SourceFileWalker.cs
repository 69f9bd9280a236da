using Rag.Ingest.Loading;

namespace Rag.Ingest.Pipeline;

/// <param name="Files">Normalised file paths in a deterministic order, each once.</param>
/// <param name="Failures">Paths that do not exist and folders that could not be listed.</param>
public sealed record SourceFiles(IReadOnlyList<string> Files, IReadOnlyList<IngestFailure> Failures);

/// <summary>
/// Expands the paths given to the pipeline into files: folders are walked recursively in ordinal name order,
/// hidden entries (dot files, .git) are skipped, and a folder reached twice (through a symlink) is walked once,
/// which also ends symlink loops.
/// </summary>
public static class SourceFileWalker
{
    public static SourceFiles Walk(IEnumerable<string> paths)
    {
        var walk = new Walker();
        foreach (string path in paths)
        {
            string full = DocumentLoaderRegistry.NormalizeSource(path);
            if (File.Exists(full))
                walk.AddFile(full);
            else if (Directory.Exists(full))
                walk.AddDirectory(new DirectoryInfo(full));
            else
                walk.Failures.Add(new IngestFailure(full, "path does not exist"));
        }

        return new SourceFiles(walk.Files, walk.Failures);
    }

    private sealed class Walker
    {
        private readonly HashSet<string> _seenFiles = new(StringComparer.Ordinal);
        private readonly HashSet<string> _seenDirectories = new(StringComparer.Ordinal);

        public List<string> Files { get; } = [];

        public List<IngestFailure> Failures { get; } = [];

        public void AddFile(string path)
        {
            if (_seenFiles.Add(path))
                Files.Add(path);
        }

        public void AddDirectory(DirectoryInfo directory)
        {
            if (!_seenDirectories.Add(RealPath(directory)))
                return;

            FileSystemInfo[] entries;
            try
            {
                entries = directory.GetFileSystemInfos();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Failures.Add(new IngestFailure(directory.FullName, $"cannot list folder: {e.Message}"));
                return;
            }

            foreach (FileSystemInfo entry in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                if (IsHidden(entry))
                    continue;
                if (entry is DirectoryInfo subdirectory)
                    AddDirectory(subdirectory);
                else
                    AddFile(entry.FullName);
            }
        }

        private static bool IsHidden(FileSystemInfo entry) =>
            entry.Name.StartsWith('.') || entry.Attributes.HasFlag(FileAttributes.Hidden);

        private static string RealPath(DirectoryInfo directory) =>
            directory.LinkTarget is null ? directory.FullName : directory.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? directory.FullName;
    }
}
