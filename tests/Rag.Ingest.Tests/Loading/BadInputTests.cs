using System.IO.Compression;
using System.Text;
using Rag.Ingest.Loading;

namespace Rag.Ingest.Tests.Loading;

/// <summary>Every bad input becomes an <see cref="IngestFailure"/> naming the file and the rule; nothing throws.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task EmptyFile() => await AssertFailsAsync(_folder.Write("empty.txt", []), "file is empty");

    [Fact]
    public async Task WhitespaceOnlyText() => await AssertFailsAsync(_folder.Write("blank.md", " \n\n \t"), "no text could be extracted");

    [Theory]
    [InlineData("bad.txt")]
    [InlineData("bad.md")]
    [InlineData("bad.html")]
    public async Task InvalidUtf8(string name) =>
        await AssertFailsAsync(_folder.Write(name, [(byte)'o', (byte)'k', 0xC3, 0x28, (byte)'!']), "invalid utf-8 byte sequence at byte 2");

    [Theory]
    [InlineData("binary.txt")]
    [InlineData("binary.html")]
    public async Task NulBytes(string name) => await AssertFailsAsync(_folder.Write(name, [(byte)'a', 0, (byte)'b']), "NUL character at text offset 1");

    [Fact]
    public async Task Utf16WithoutByteOrderMark_IsCaughtByTheNulRule() =>
        await AssertFailsAsync(_folder.Write("utf16.txt", Encoding.Unicode.GetBytes("hello")), "UTF-16 without a byte order mark");

    [Fact]
    public async Task CorruptPdf_Garbage() =>
        await AssertFailsAsync(_folder.Write("garbage.pdf", "this is not a PDF at all"u8.ToArray()), "not a valid .pdf file");

    [Fact]
    public async Task CorruptPdf_Truncated()
    {
        byte[] pdf = SampleDocuments.Pdf("t", "Some text that will be cut off.");
        await AssertFailsAsync(_folder.Write("truncated.pdf", pdf[..(pdf.Length / 3)]), "not a valid .pdf file");
    }

    [Fact]
    public async Task CorruptDocx_NotAZip() =>
        await AssertFailsAsync(_folder.Write("garbage.docx", "PK but not really a zip"u8.ToArray()), "not a valid zip archive");

    [Fact]
    public async Task CorruptDocx_ZipWithoutWordDocument()
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var writer = new StreamWriter(zip.CreateEntry("hello.txt").Open());
            writer.Write("hello");
        }

        await AssertFailsAsync(_folder.Write("plain-zip.docx", stream.ToArray()), "not a Word document");
    }

    [Fact]
    public async Task DocxZipBomb_RejectedByCompressionRatio()
    {
        byte[] bomb = SampleDocuments.DocxWithBomb(bombBytes: 8L << 20);
        Assert.True(bomb.Length < 100_000, "the bomb should be small on disk");

        await AssertFailsAsync(_folder.Write("bomb.docx", bomb), "over the limit Ingest:MaxCompressionRatio = 100");
    }

    [Fact]
    public async Task Docx_RejectedByDecompressedSize()
    {
        string path = _folder.Write("big.docx", SampleDocuments.Docx("t", "Perfectly fine text."));

        await AssertFailsAsync(path, "over the limit Ingest:MaxDecompressedBytes = 1000", new IngestOptions { MaxDecompressedBytes = 1000 });
    }

    [Fact]
    public async Task FileOverTheSizeLimit_IsRejectedFromItsLength()
    {
        // Invalid UTF-8 too: the size rule must win because the content is never read.
        string path = _folder.Write("large.txt", [.. "0123456789"u8, 0xFF]);

        await AssertFailsAsync(path, "file is 11 bytes, over the limit Ingest:MaxFileBytes = 10", new IngestOptions { MaxFileBytes = 10 });
    }

    [Fact]
    public async Task MissingPath() => await AssertFailsAsync(Path.Combine(_folder.Path, "missing.txt"), "file not found");

    [Fact]
    public async Task UnreadableFile()
    {
        string path = _folder.Write("locked.txt", "locked");
        // An exclusive lock makes the file unreadable even for root, where permission bits would not.
        using var exclusive = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);

        await AssertFailsAsync(path, "cannot read file");
    }

    [Fact]
    public async Task UnknownExtension() => await AssertFailsAsync(_folder.Write("image.png", [1, 2, 3]), "unsupported file type '.png'");

    private static async Task AssertFailsAsync(string path, string expectedReason, IngestOptions? options = null)
    {
        LoadResult result = await DocumentLoaderRegistry.CreateDefault(options ?? new IngestOptions()).LoadAsync(path);

        Assert.Null(result.Document);
        Assert.NotNull(result.Failure);
        Assert.Equal(Path.GetFullPath(path), result.Failure.Path);
        Assert.Contains(expectedReason, result.Failure.Reason, StringComparison.OrdinalIgnoreCase);
    }
}
