using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;

namespace Rag.Orchestrator.Tests;

/// <summary>How a hostile file must end: refused with a reason naming the rule, or stored whole.</summary>
public enum HostileOutcome { Rejected, Stored, SkippedUnknown, SkippedEmpty }

/// <param name="FileName">Unique per case, so the store can be searched for anything left of it.</param>
/// <param name="Rule">Text the failure reason must contain (the rule broken); null when the file must be stored.</param>
/// <param name="Settings">Settings a dedicated host needs (size limits); null runs on the shared host.</param>
public sealed record HostileFile(string FileName, Func<byte[]> Content, HostileOutcome Outcome, string? Rule = null,
    IReadOnlyDictionary<string, string?>? Settings = null)
{
    public override string ToString() => FileName;
}

/// <param name="Rule">Text the problem detail must contain (the field and the rule).</param>
public sealed record HostileRequest(string Name, string Path, Func<HttpContent> Body, int Status, string Rule,
    IReadOnlyDictionary<string, string?>? Settings = null)
{
    public override string ToString() => Name;
}

/// <summary>
/// The hostile inputs of the reliability suite: files for both ingestion paths (<c>rag ingest</c>'s pipeline and
/// uploads to POST /v1/documents) and requests for the HTTP API only. Inputs are generated, small unless the rule is a size.
/// </summary>
public static class HostileInputCases
{
    /// <summary>Limits of the shared hosts: small enough that the size cases stay small on disk.</summary>
    public static readonly IReadOnlyDictionary<string, string?> SharedSettings = new Dictionary<string, string?>
    {
        ["Ingest:MaxFileBytes"] = "1000000",
        ["Ingest:MaxDecompressedBytes"] = "200000",
        ["Ingest:MaxCompressionRatio"] = "100",
    };

    private static readonly Dictionary<string, string?> TinyFileLimit = new(SharedSettings) { ["Ingest:MaxFileBytes"] = "4096" };

    private static readonly Dictionary<string, string?> LargeFileLimit = new(SharedSettings)
    {
        ["Ingest:MaxFileBytes"] = "4000000",
        ["Api:MaxBodyBytes"] = "8000000",
    };

    private const string NotUtf8 = "invalid utf-8 byte sequence";
    private const string Nul = "NUL character";
    private const string Empty = "file is empty";
    private const string NoText = "no text could be extracted";

    public static readonly IReadOnlyList<HostileFile> Files =
    [
        new("truncated.pdf", () => TextPdf()[..(TextPdf().Length / 3)], HostileOutcome.Rejected, "not a valid .pdf file"),
        new("random-bytes.pdf", () => RandomBytes(3000, seed: 1), HostileOutcome.Rejected, "not a valid .pdf file"),
        new("header-then-garbage.pdf", () => [.. Ascii("%PDF-1.7\n"), .. RandomBytes(3000, seed: 2)], HostileOutcome.Rejected, "not a valid .pdf file"),
        new("text-named.pdf", () => Utf8("Just some plain text, not a PDF at all."), HostileOutcome.Rejected, "not a valid .pdf file"),
        new("not-a-zip.docx", () => Utf8("This is plain text with a .docx name."), HostileOutcome.Rejected, "not a valid zip archive"),
        new("zip-without-document.docx", () => Zip(("notes.txt", Utf8("hello"))), HostileOutcome.Rejected, "not a Word document"),
        new("zip-bomb-size.docx", () => Zip(("word/document.xml", new byte[1_000_000])), HostileOutcome.Rejected, "Ingest:MaxDecompressedBytes"),
        new("zip-bomb-ratio.docx", () => Zip(("word/document.xml", new byte[150_000])), HostileOutcome.Rejected, "Ingest:MaxCompressionRatio"),
        new("empty-body.docx", () => Docx(""), HostileOutcome.Rejected, NoText),
        new("deep-nesting.html", () => Utf8(Repeat("<div>", 100_000) + "bottom of the well, no end tags"), HostileOutcome.Rejected, "HTML elements are open at once"),
        new("nesting-under-limit.html", () => Utf8(Repeat("<div>", 5_000) + "deep but allowed" + Repeat("</div>", 5_000)), HostileOutcome.Stored),
        new("invalid-utf8.txt", () => [.. Ascii("valid start "), 0xC3, 0x28, .. Ascii(" then broken")], HostileOutcome.Rejected, NotUtf8),
        new("invalid-utf8.md", () => [.. Ascii("# Title\n\n"), 0xFF, 0xFE, 0xFD], HostileOutcome.Rejected, NotUtf8),
        new("invalid-utf8.html", () => [.. Ascii("<p>caf"), 0xE9, .. Ascii("</p>")], HostileOutcome.Rejected, NotUtf8),
        new("utf16-without-bom.txt", () => Encoding.Unicode.GetBytes("little endian text without a byte order mark"), HostileOutcome.Rejected, Nul),
        new("utf16be-without-bom.md", () => Encoding.BigEndianUnicode.GetBytes("# big endian heading"), HostileOutcome.Rejected, Nul),
        new("utf16-odd-length.txt", () => [0xFF, 0xFE, .. Encoding.Unicode.GetBytes("odd"), 0x41], HostileOutcome.Rejected, "invalid utf-16"),
        new("nul-bytes.txt", () => Utf8("before\0after"), HostileOutcome.Rejected, Nul),
        new("nul-bytes.html", () => Utf8("<p>one\0two</p>"), HostileOutcome.Rejected, Nul),
        new("zero-bytes.txt", () => [], HostileOutcome.SkippedEmpty, Empty),
        new("zero-bytes.pdf", () => [], HostileOutcome.SkippedEmpty, Empty),
        new("zero-bytes.docx", () => [], HostileOutcome.SkippedEmpty, Empty),
        new("whitespace-only.txt", () => Utf8(" \n\t\r\n   \n"), HostileOutcome.Rejected, NoText),
        new("whitespace-only.md", () => Utf8("\n\n    \n"), HostileOutcome.Rejected, NoText),
        new("bom-only.txt", () => [0xEF, 0xBB, 0xBF], HostileOutcome.Rejected, NoText),
        new("tags-only.html", () => Utf8("<html><head><script>var hidden = 1;</script></head><body> <div> </div> </body></html>"), HostileOutcome.Rejected, NoText),
        new("over-size-limit.txt", () => Utf8(Repeat("word ", 1000)), HostileOutcome.Rejected, "Ingest:MaxFileBytes = 4096", TinyFileLimit),
        new("long-single-line.txt", () => Utf8(LongLine(2_000_000)), HostileOutcome.Stored, Settings: LargeFileLimit),
        new("unknown-extension.exe", () => RandomBytes(100, seed: 3), HostileOutcome.SkippedUnknown, "no loader for this file type"),
    ];

    private static readonly Dictionary<string, string?> TinyBodyLimit = new(SharedSettings) { ["Api:MaxBodyBytes"] = "1000" };

    public static readonly IReadOnlyList<HostileRequest> Requests =
    [
        Upload("dot-dot-name", "../escape.txt", "'../escape.txt' is not allowed"),
        Upload("dot-dot-inside-name", "a..b.txt", "it contains '..'"),
        Upload("absolute-path-name", "/etc/passwd", "'/etc/passwd' is not allowed"),
        Upload("backslash-name", "dir\\file.txt", "it contains a path separator"),
        Upload("windows-absolute-name", "C:\\temp\\x.txt", "is not allowed"),
        Upload("single-dot-name", ".", "it is only dots"),
        Upload("only-dots-name", "...", "it is only dots"),
        Upload("blank-name", "   ", "has no file name"),
        Upload("empty-name", "", "has no files"),
        Upload("control-char-name", "bell\u0007.txt", "characters not allowed in file names"),
        new("body-over-limit", "/v1/documents", () => JsonBody($$"""{"documents":[{"source":"big","text":"{{Repeat("x", 2000)}}"}]}"""),
            413, "Api:MaxBodyBytes", TinyBodyLimit),
        new("ask-1mb-question", "/v1/ask", () => JsonBody($$"""{"question":"{{Repeat("why ", 262_144)}}"}"""), 400, "Ask:MaxQuestionChars"),
        new("search-1mb-query", "/v1/search", () => JsonBody($$"""{"query":"{{Repeat("why ", 262_144)}}"}"""), 400, "Ask:MaxQuestionChars"),
        new("search-k-zero", "/v1/search", () => JsonBody("""{"query":"quokka","k":0}"""), 400, "k must be between 1 and"),
        new("search-k-negative", "/v1/search", () => JsonBody("""{"query":"quokka","k":-1}"""), 400, "got -1"),
        new("search-k-huge", "/v1/search", () => JsonBody("""{"query":"quokka","k":1000000000}"""), 400, "got 1000000000"),
        new("search-k-beyond-int", "/v1/search", () => JsonBody("""{"query":"quokka","k":99999999999}"""), 400, "$.k"),
        new("ask-k-zero", "/v1/ask", () => JsonBody("""{"question":"quokka?","k":0}"""), 400, "k must be between 1 and"),
        new("ask-k-negative", "/v1/ask", () => JsonBody("""{"question":"quokka?","k":-1}"""), 400, "got -1"),
        new("ask-k-huge", "/v1/ask", () => JsonBody("""{"question":"quokka?","k":1000000000}"""), 400, "got 1000000000"),
        new("chat-max-tokens-over-limit", "/v1/chat/completions",
            () => JsonBody("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":1000000}"""), 400, "max_tokens must be between 1 and 12",
            ApiTestHost.TinyGenerator()),
        new("chat-max-completion-tokens-zero", "/v1/chat/completions",
            () => JsonBody("""{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":0}"""), 400, "max_completion_tokens must be between",
            ApiTestHost.TinyGenerator()),
        new("search-malformed-json", "/v1/search", () => JsonBody("""{"query": "quokka", "k": """), 400, "not valid JSON"),
        new("ask-malformed-json", "/v1/ask", () => JsonBody("""{question: quokka}"""), 400, "not valid JSON"),
        new("documents-malformed-json", "/v1/documents", () => JsonBody("""{"documents":[{"source":"a","text":"b"}"""), 400, "not valid JSON"),
        new("search-wrong-type-field", "/v1/search", () => JsonBody("""{"query":"quokka","k":"five"}"""), 400, "$.k"),
        new("search-text-plain", "/v1/search", () => new StringContent("""{"query":"quokka"}""", Encoding.UTF8, "text/plain"), 415, "Content-Type"),
        new("ask-text-plain", "/v1/ask", () => new StringContent("""{"question":"quokka?"}""", Encoding.UTF8, "text/plain"), 415, "Content-Type"),
        new("documents-text-plain", "/v1/documents", () => new StringContent("some text", Encoding.UTF8, "text/plain"), 415, "Content-Type"),
        new("chat-no-content-type", "/v1/chat/completions", () => new ByteArrayContent(Utf8("""{"messages":[]}""")), 415, "Content-Type"),
        new("search-empty-body", "/v1/search", () => JsonBody(""), 400, "not valid JSON"),
        new("ask-empty-body", "/v1/ask", () => JsonBody(""), 400, "not valid JSON"),
        new("search-json-null", "/v1/search", () => JsonBody("null"), 400, "JSON null"),
        new("search-empty-object", "/v1/search", () => JsonBody("{}"), 400, "query is empty"),
        new("ask-empty-object", "/v1/ask", () => JsonBody("{}"), 400, "question"),
        new("documents-empty-object", "/v1/documents", () => JsonBody("{}"), 400, "documents is empty"),
        new("documents-empty-text", "/v1/documents", () => JsonBody("""{"documents":[{"source":"notes/empty.txt","text":""}]}"""), 400, "documents[0]: Document 'notes/empty.txt' has no text."),
        new("documents-whitespace-text", "/v1/documents", () => JsonBody("""{"documents":[{"source":"notes/blank.txt","text":"  \n\t "}]}"""), 400, "documents[0]: Document 'notes/blank.txt' has no text."),
        new("documents-nul-in-source", "/v1/documents", () => JsonBody("""{"documents":[{"source":"notes/a\u0000b.txt","text":"fine text"}]}"""), 400, "documents[0]: Document source 'notes/a?b.txt' contains NUL characters."),
        new("documents-nul-in-text", "/v1/documents", () => JsonBody("""{"documents":[{"source":"notes/nul-text.txt","text":"one\u0000two"}]}"""), 400, "documents[0]: Document 'notes/nul-text.txt' contains NUL characters."),
        new("documents-missing-source", "/v1/documents", () => JsonBody("""{"documents":[{"text":"orphan text"}]}"""), 400, "documents[0]: The document source is empty."),
        new("documents-duplicate-source", "/v1/documents",
            () => JsonBody("""{"documents":[{"source":"twice","text":"one"},{"source":"twice","text":"two"}]}"""), 400, "appears more than once"),
    ];

    public static TheoryData<HostileFile> FileData() => [.. Files];

    public static TheoryData<HostileRequest> RequestData() => [.. Requests];

    private static HostileRequest Upload(string name, string fileName, string rule) => new(name, "/v1/documents", () =>
    {
        var file = new ByteArrayContent(Utf8("harmless text"));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        file.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"files\"", FileName = $"\"{fileName}\"" };
        return new MultipartFormDataContent { file };
    }, 400, rule);

    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private static string Repeat(string text, int count) => new StringBuilder(text.Length * count).Insert(0, text, count).ToString();

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Words without one line break, so the chunker cannot cut at a paragraph or line.</summary>
    private static string LongLine(int chars)
    {
        var random = new Random(4);
        var line = new StringBuilder(chars + 16);
        while (line.Length < chars) line.Append("w").Append(random.Next(10_000)).Append(' ');
        return line.ToString();
    }

    private static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create))
        {
            foreach (var (name, content) in entries)
            {
                using var stream = zip.CreateEntry(name, CompressionLevel.SmallestSize).Open();
                stream.Write(content);
            }
        }
        return buffer.ToArray();
    }

    private static byte[] Docx(string paragraph)
    {
        using var buffer = new MemoryStream();
        using (var document = WordprocessingDocument.Create(buffer, DocumentFormat.OpenXml.WordprocessingDocumentType.Document))
        {
            var main = document.AddMainDocumentPart();
            main.Document = new Document(new Body(new Paragraph(new Run(new Text(paragraph)))));
        }
        return buffer.ToArray();
    }

    /// <summary>A one-page PDF with text, written by PdfPig's builder.</summary>
    private static byte[] TextPdf()
    {
        var builder = new UglyToad.PdfPig.Writer.PdfDocumentBuilder();
        var font = builder.AddStandard14Font(UglyToad.PdfPig.Fonts.Standard14Fonts.Standard14Font.Helvetica);
        var page = builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
        for (int line = 0; line < 40; line++)
            page.AddText($"Line {line} of a page that will be cut short before its end.", 10, new UglyToad.PdfPig.Core.PdfPoint(40, 800 - line * 18), font);
        return builder.Build();
    }
}
