using System.Diagnostics.CodeAnalysis;
using Rag.Ingest.Loading;

namespace Rag.Ingest.Pipeline;

/// <param name="Files">Normalised file paths in a deterministic order, each once.</param>
/// <param name="Failures">Paths that do not exist, folders that could not be listed and paths outside the ingest roots.</param>
public sealed record SourceFiles(IReadOnlyList<string> Files, IReadOnlyList<IngestFailure> Failures);

/// <summary>
/// Expands the paths given to the pipeline into files: folders are walked recursively in ordinal name order,
/// hidden entries (dot files, .git) are skipped, and a folder reached twice (through a symlink) is walked once,
/// which also ends symlink loops. With roots, a path whose real path (symlinks resolved) is outside every root is a
/// failure and is neither listed nor opened.
/// </summary>
public static class SourceFileWalker
{
    /// <param name="roots">Folders the paths must resolve into (<see cref="IngestOptions.Roots"/>); empty = anywhere.</param>
    public static SourceFiles Walk(IEnumerable<string> paths, IReadOnlyList<string> roots)
    {
        var walk = new Walker(roots.Select(r => RealPath.Resolve(DocumentLoaderRegistry.NormalizeSource(r))).ToList());
        foreach (string path in paths)
        {
            string full = DocumentLoaderRegistry.NormalizeSource(path);
            // Checked before existence, so a path outside the roots does not tell whether it exists.
            if (!walk.IsAllowed(full, out string? real))
                continue;
            if (File.Exists(full))
                walk.AddFile(full);
            else if (Directory.Exists(full))
                walk.AddDirectory(new DirectoryInfo(full), real);
            else
                walk.Failures.Add(new IngestFailure(full, "path does not exist"));
        }

        return new SourceFiles(walk.Files, walk.Failures);
    }

    private sealed class Walker(IReadOnlyList<string> realRoots)
    {
        private readonly HashSet<string> _seenFiles = new(StringComparer.Ordinal);
        private readonly HashSet<string> _seenDirectories = new(StringComparer.Ordinal);

        public List<string> Files { get; } = [];

        public List<IngestFailure> Failures { get; } = [];

        /// <summary>Resolves the real path and checks it against the roots; a refusal is recorded as a failure.</summary>
        public bool IsAllowed(string path, [NotNullWhen(true)] out string? real)
        {
            real = null;
            string resolved;
            try
            {
                resolved = RealPath.Resolve(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Failures.Add(new IngestFailure(path, e.Message));
                return false;
            }

            if (realRoots.Count > 0 && !realRoots.Any(root => RealPath.IsUnder(resolved, root)))
            {
                Failures.Add(new IngestFailure(path, $"resolves to {resolved} outside the ingest roots (Ingest:Roots)"));
                return false;
            }

            real = resolved;
            return true;
        }

        public void AddFile(string path)
        {
            if (_seenFiles.Add(path))
                Files.Add(path);
        }

        /// <param name="real">The folder's real path, which identifies it however it was reached.</param>
        public void AddDirectory(DirectoryInfo directory, string real)
        {
            if (!_seenDirectories.Add(real))
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
                // Without roots a file's real path is never used; folders still need theirs to end link loops.
                if (realRoots.Count == 0 && entry is not DirectoryInfo)
                    AddFile(entry.FullName);
                else if (IsAllowed(entry.FullName, out string? entryReal))
                {
                    if (entry is DirectoryInfo subdirectory)
                        AddDirectory(subdirectory, entryReal);
                    else
                        AddFile(entry.FullName);
                }
            }
        }

        private static bool IsHidden(FileSystemInfo entry) =>
            entry.Name.StartsWith('.') || entry.Attributes.HasFlag(FileAttributes.Hidden);
    }
}
