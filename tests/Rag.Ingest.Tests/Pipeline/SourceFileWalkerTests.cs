using Rag.Ingest.Pipeline;

namespace Rag.Ingest.Tests.Pipeline;

public sealed class SourceFileWalkerTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Folders_AreWalkedRecursively_InOrdinalOrder_SkippingHiddenEntries()
    {
        string b = _folder.Write("b.txt", "b");
        string a = _folder.Write("A/z.txt", "z");
        string upper = _folder.Write("B.txt", "B");
        string deep = _folder.Write("A/deeper/y.md", "y");
        _folder.Write(".git/config.txt", "hidden folder");
        _folder.Write("A/.secret.txt", "hidden file");

        SourceFiles files = SourceFileWalker.Walk([_folder.Path]);

        Assert.Equal([deep, a, upper, b], files.Files);
        Assert.Empty(files.Failures);
    }

    [Fact]
    public void SymlinkLoops_AndAliases_AreWalkedOnce_UnderTheFirstPathReached()
    {
        string file = _folder.Write("docs/file.txt", "x");
        Directory.CreateSymbolicLink(Path.Combine(_folder.Path, "docs", "loop"), Path.Combine(_folder.Path, "docs"));
        Directory.CreateSymbolicLink(Path.Combine(_folder.Path, "z-alias"), Path.Combine(_folder.Path, "docs"));

        SourceFiles files = SourceFileWalker.Walk([_folder.Path]);

        Assert.Equal([file], files.Files);
    }

    [Fact]
    public void RepeatedInputs_GiveEachFileOnce_AndMissingPathsAreFailures()
    {
        string file = _folder.Write("one.txt", "1");
        string missing = Path.Combine(_folder.Path, "nope");

        SourceFiles files = SourceFileWalker.Walk([file, _folder.Path, Path.Combine(_folder.Path, ".", "one.txt"), missing]);

        Assert.Equal([file], files.Files);
        Assert.Equal(missing, Assert.Single(files.Failures).Path);
    }
}
