using Rag.Ingest.Loading;
using Rag.Ingest.Pipeline;

namespace Rag.Ingest.Tests.Pipeline;

public sealed class SourceFileWalkerTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public SourceFileWalkerTests()
    {
        Root = Directory.CreateDirectory(Path.Combine(_folder.Path, "root")).FullName;
        Real = RealPath.Resolve(_folder.Path);
    }

    /// <summary>The ingest root of the roots tests; "outside" is its sibling.</summary>
    private string Root { get; }

    /// <summary>The temp folder's real path, which the refusals name.</summary>
    private string Real { get; }

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

        SourceFiles files = SourceFileWalker.Walk([_folder.Path], roots: []);

        Assert.Equal([deep, a, upper, b], files.Files);
        Assert.Empty(files.Failures);
    }

    [Fact]
    public void SymlinkLoops_AndAliases_AreWalkedOnce_UnderTheFirstPathReached()
    {
        string file = _folder.Write("docs/file.txt", "x");
        Directory.CreateSymbolicLink(Path.Combine(_folder.Path, "docs", "loop"), Path.Combine(_folder.Path, "docs"));
        Directory.CreateSymbolicLink(Path.Combine(_folder.Path, "z-alias"), Path.Combine(_folder.Path, "docs"));

        SourceFiles files = SourceFileWalker.Walk([_folder.Path], roots: []);

        Assert.Equal([file], files.Files);
    }

    [Fact]
    public void RepeatedInputs_GiveEachFileOnce_AndMissingPathsAreFailures()
    {
        string file = _folder.Write("one.txt", "1");
        string missing = Path.Combine(_folder.Path, "nope");

        SourceFiles files = SourceFileWalker.Walk([file, _folder.Path, Path.Combine(_folder.Path, ".", "one.txt"), missing], roots: []);

        Assert.Equal([file], files.Files);
        Assert.Equal(missing, Assert.Single(files.Failures).Path);
    }

    [Fact]
    public void WithRoots_PathsOutside_AreRefused_WithoutSayingWhetherTheyExist()
    {
        string secret = _folder.Write("outside/secret.txt", "secret");
        string missing = Path.Combine(_folder.Path, "outside", "missing.txt");

        SourceFiles files = SourceFileWalker.Walk([secret, missing], [Root]);

        Assert.Empty(files.Files);
        Assert.Equal([Refused(secret, "outside/secret.txt"), Refused(missing, "outside/missing.txt")], files.Failures);
    }

    [Fact]
    public void WithRoots_SymlinksPointingOutside_AreRefused_WhileTheirSiblingsAreListed()
    {
        string inside = _folder.Write("root/docs/a.txt", "a");
        _folder.Write("outside/secret.txt", "secret");
        string folderLink = _folder.Link("root/more", Path.Combine(_folder.Path, "outside"));
        string relativeLink = _folder.Link("root/docs/up.txt", "../../outside/secret.txt");

        SourceFiles files = SourceFileWalker.Walk([Root], [Root]);

        Assert.Equal([inside], files.Files);
        Assert.Equal([Refused(relativeLink, "outside/secret.txt"), Refused(folderLink, "outside")], files.Failures);
    }

    [Fact]
    public void WithRoots_SymlinksThatStayInside_AreFollowed_AndARootMayItselfBeALink()
    {
        string file = _folder.Write("root/docs/a.txt", "a");
        string relative = _folder.Link("root/sub/up.txt", "../docs/a.txt");
        string absolute = _folder.Link("root/z-link.txt", file);
        _folder.Link("root/z-folder", Path.Combine(Root, "docs"));
        string rootLink = _folder.Link("root-link", Root);

        SourceFiles files = SourceFileWalker.Walk([Root], [rootLink]);

        Assert.Equal([file, relative, absolute], files.Files);
        Assert.Empty(files.Failures);
    }

    [Fact]
    public void WithRoots_ARootMatchesWholePathComponents_NotAPrefix()
    {
        string neighbour = _folder.Write("root2/file.txt", "not in root");

        SourceFiles files = SourceFileWalker.Walk([neighbour], [Root]);

        Assert.Empty(files.Files);
        Assert.Equal([Refused(neighbour, "root2/file.txt")], files.Failures);
    }

    [Fact]
    public void WithoutRoots_LinksToAnywhere_AreFollowed()
    {
        string secret = _folder.Write("outside/secret.txt", "secret");
        string fileLink = _folder.Link("root/a-link.txt", secret);
        _folder.Link("root/b-folder", Path.Combine(_folder.Path, "outside"));

        SourceFiles files = SourceFileWalker.Walk([Root, secret], roots: []);

        Assert.Equal([fileLink, Path.Combine(Root, "b-folder", "secret.txt"), secret], files.Files);
        Assert.Empty(files.Failures);
    }

    [Fact]
    public void A_LinkCycle_IsAFailure_TooManyLevelsOfSymbolicLinks()
    {
        string a = _folder.Link("root/a", "b");
        string b = _folder.Link("root/b", "a");

        SourceFiles files = SourceFileWalker.Walk([Root], [Root]);

        Assert.Empty(files.Files);
        Assert.Equal([a, b], files.Failures.Select(f => f.Path));
        Assert.All(files.Failures, f => Assert.Equal("too many levels of symbolic links", f.Reason));
    }

    /// <summary>The failure of a path whose real path is <paramref name="realRelative"/> under the temp folder.</summary>
    private IngestFailure Refused(string path, string realRelative) =>
        new(path, $"resolves to {Path.Combine(Real, realRelative)} outside the ingest roots (Ingest:Roots)");
}
