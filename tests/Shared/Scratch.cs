namespace Rag.Tests;

/// <summary>
/// Temporary files and folders for one test process, all under one folder in the system's temp folder that is
/// removed when the process exits: files shared by many tests (a vocabulary, damaged checkpoints) live as long as
/// the run, and a run leaves nothing behind even where a test fails before its own clean-up.
/// </summary>
internal static class Scratch
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var root = Directory.CreateTempSubdirectory("rag-tests-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); }
            catch (IOException) { }  // a file still open elsewhere; the system's temp clean-up takes it
            catch (UnauthorizedAccessException) { }
        };
        return root;
    });

    /// <summary>A new, empty folder.</summary>
    public static string Folder(string prefix) => Directory.CreateDirectory(Path(prefix)).FullName;

    /// <summary>A path nothing exists at yet, for code that must create the file or folder itself.</summary>
    public static string Path(string prefix, string extension = "") =>
        System.IO.Path.Combine(Root.Value, $"{prefix}{Guid.NewGuid():N}{extension}");
}
