using System.Security.Cryptography;
using System.Text;
using Rag.Ingest.Loading;

namespace Rag.Ingest.Tests.Loading;

public sealed class LoaderTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly DocumentLoaderRegistry _registry = DocumentLoaderRegistry.CreateDefault(new IngestOptions());

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Txt_IsDecodedAsUtf8_WithSourceTitleHashAndSize()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("Grüße aus Köln.\r\nZweite Zeile.");
        string path = _folder.Write("notes/../greeting.txt", bytes);

        LoadedDocument document = await LoadAsync(path);

        Assert.Equal("Grüße aus Köln.\nZweite Zeile.", document.Text);
        Assert.Equal(Path.Combine(_folder.Path, "greeting.txt"), document.Source);
        Assert.Equal("greeting", document.Title);
        Assert.Equal(bytes.Length, document.ByteCount);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(document.Text))), document.ContentHash);
    }

    public static TheoryData<string> BomEncodings => ["utf-8", "utf-16", "utf-16BE", "utf-32"];

    [Theory]
    [MemberData(nameof(BomEncodings))]
    public async Task Txt_WithByteOrderMark_IsDecodedInThatEncoding(string encodingName)
    {
        const string text = "Ünïcödé text: 日本語 and 😀.";
        Encoding encoding = Encoding.GetEncoding(encodingName);
        string path = _folder.Write("bom.txt", [.. encoding.GetPreamble(), .. encoding.GetBytes(text)]);

        LoadedDocument document = await LoadAsync(path);

        Assert.Equal(text, document.Text);
    }

    [Fact]
    public async Task ContentHash_FollowsTheText_NotTheBytes()
    {
        LoadedDocument unix = await LoadAsync(_folder.Write("a.txt", "one\ntwo"));
        LoadedDocument windows = await LoadAsync(_folder.Write("b.txt", "one\r\ntwo"));
        LoadedDocument other = await LoadAsync(_folder.Write("c.txt", "one\ntwo!"));

        Assert.Equal(unix.ContentHash, windows.ContentHash);
        Assert.NotEqual(unix.ContentHash, other.ContentHash);
    }

    [Fact]
    public async Task Markdown_BecomesPlainText_WithHeadingsAsLines()
    {
        const string markdown = """
            # Getting started

            Install the *tool* with `dotnet tool install` and read the [guide](https://example.com/guide).

            ## Next steps

            - first **item**
            - second item

            | Key | Value |
            |-----|-------|
            | k1  | v1    |

            ```
            var x = 1;
            ```
            """;
        LoadedDocument document = await LoadAsync(_folder.Write("readme.md", markdown));

        string[] lines = document.Text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            ["Getting started", "Install the tool with dotnet tool install and read the guide.", "Next steps", "first item", "second item",
             "Key | Value", "k1 | v1", "var x = 1;"],
            lines);
        Assert.Equal("Getting started", document.Title);
    }

    [Fact]
    public async Task Html_DropsScriptStyleNoscript_KeepsBlocksAndTitle()
    {
        const string html = """
            <!DOCTYPE html>
            <html><head><title> Release notes </title>
              <style>p { color: red }</style><script>var secret = "do not index";</script></head>
            <body>
              <h1>Version 2</h1>
              <p>Faster   search
                 and <b>smaller</b> index.</p>
              <noscript>Please enable JavaScript.</noscript>
              <ul><li>one</li><li>two</li></ul>
              <p>Line<br>break</p>
              <script>document.write("hidden")</script>
            </body></html>
            """;
        LoadedDocument document = await LoadAsync(_folder.Write("notes.html", html));

        Assert.Equal("Version 2\n\nFaster search and smaller index.\n\none\ntwo\n\nLine\nbreak", document.Text);
        Assert.Equal("Release notes", document.Title);
    }

    [Fact]
    public async Task Pdf_TextOfEveryPage_WithTitle()
    {
        byte[] pdf = SampleDocuments.Pdf("Quarterly report", "Revenue grew in the first quarter.", "Costs fell in the second quarter.");

        LoadedDocument document = await LoadAsync(_folder.Write("report.pdf", pdf));

        Assert.Equal("Revenue grew in the first quarter.\n\nCosts fell in the second quarter.", document.Text);
        Assert.Equal("Quarterly report", document.Title);
    }

    [Fact]
    public async Task Docx_ParagraphsAndTitle()
    {
        byte[] docx = SampleDocuments.Docx("Meeting minutes", "Alpha was approved.", "Beta needs review.");

        LoadedDocument document = await LoadAsync(_folder.Write("minutes.docx", docx));

        Assert.Equal("Alpha was approved.\n\nBeta needs review.", document.Text);
        Assert.Equal("Meeting minutes", document.Title);
    }

    [Fact]
    public void Registry_KnowsEveryBuiltInExtension_CaseInsensitively()
    {
        Assert.Equal([".docx", ".htm", ".html", ".markdown", ".md", ".pdf", ".txt"], _registry.SupportedExtensions.Order(StringComparer.Ordinal));
        Assert.True(_registry.CanLoad("/x/REPORT.PDF"));
        Assert.False(_registry.CanLoad("/x/photo.png"));
    }

    private async Task<LoadedDocument> LoadAsync(string path)
    {
        LoadResult result = await _registry.LoadAsync(path);
        Assert.True(result.Document is not null, $"load failed: {result.Failure?.Reason}");
        return result.Document;
    }
}
