namespace Rag.Ingest.Pipeline;

/// <summary>
/// The real path of a file or folder: the symbolic links of every component resolved the way the OS does when it
/// opens the path, in portable managed code. Components that do not exist are kept as written.
/// </summary>
public static class RealPath
{
    /// <summary>Links followed before giving up, as Linux does (ELOOP); a longer chain is taken to be a loop.</summary>
    public const int MaxLinks = 40;

    /// <param name="path">An absolute path.</param>
    /// <exception cref="IOException">More than <see cref="MaxLinks"/> links had to be followed.</exception>
    public static string Resolve(string path)
    {
        if (!Path.IsPathFullyQualified(path))
            throw new ArgumentException($"Path '{path}' must be absolute to resolve its real path.", nameof(path));

        string current = Path.GetPathRoot(path)!;
        var pending = new Stack<string>();
        PushComponents(pending, path[current.Length..]);
        int links = 0;
        while (pending.TryPop(out string? component))
        {
            if (component == ".")
                continue;
            if (component == "..")
            {
                // current has no links left in it, so its parent is the real parent.
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            string next = Path.Join(current, component);
            if (LinkTarget(next) is not { } target)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks)
                throw new IOException("too many levels of symbolic links");
            // The target replaces the link: a relative one continues from the link's folder, an absolute one from its root.
            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(Path.GetFullPath(target))!;
                target = target[Path.GetPathRoot(target)!.Length..];
            }

            PushComponents(pending, target);
        }

        return current;
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="folder"/> or inside it, comparing whole components.</summary>
    public static bool IsUnder(string path, string folder) =>
        path.StartsWith(folder, StringComparison.Ordinal)
        && (path.Length == folder.Length || Path.EndsInDirectorySeparator(folder) || IsSeparator(path[folder.Length]));

    /// <summary>The target as stored in the link; null when the path is not a link or does not exist.</summary>
    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Pushes the components of a relative path so that the first one is popped first.</summary>
    private static void PushComponents(Stack<string> pending, string relative)
    {
        string[] components = relative.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        for (int i = components.Length - 1; i >= 0; i--)
            pending.Push(components[i]);
    }

    private static bool IsSeparator(char c) => c == Path.DirectorySeparatorChar || c == Path.AltDirectorySeparatorChar;
}
