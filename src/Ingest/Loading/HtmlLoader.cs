using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace Rag.Ingest.Loading;

/// <summary>Visible text of an HTML page (AngleSharp); scripts, styles and noscript fallbacks are dropped.</summary>
public sealed class HtmlLoader : IDocumentLoader
{
    private static readonly string[] InvisibleElements = ["script", "style", "noscript", "template"];

    /// <summary>
    /// AngleSharp's tree builder slows down quadratically with the number of open elements (100k unclosed
    /// &lt;div&gt; take ~30 s), so pages that leave more than this many tags open are refused before parsing.
    /// </summary>
    public const int MaxOpenTags = 10_000;

    private static readonly HashSet<string> VoidElements = new(StringComparer.OrdinalIgnoreCase)
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param",
    };

    public IReadOnlyList<string> Extensions { get; } = [".html", ".htm"];

    public ExtractedText Extract(byte[] content)
    {
        string html = StrictTextDecoder.Decode(content);
        CheckOpenTags(html);
        var parser = new HtmlParser();
        using IDocument document = parser.ParseDocument(html);
        foreach (IElement element in document.QuerySelectorAll(string.Join(',', InvisibleElements)).ToList())
            element.Remove();

        var writer = new HtmlTextWriter();
        writer.Write(document.Body ?? (INode?)document.DocumentElement ?? document);
        string? title = string.IsNullOrWhiteSpace(document.Title) ? null : document.Title.Trim();
        return new ExtractedText(writer.ToString(), title);
    }

    /// <summary>Most start tags open at once (end tags close, void and self-closed tags do not count); a cheap scan, not a parse.</summary>
    private static void CheckOpenTags(string html)
    {
        int open = 0;
        for (int i = html.IndexOf('<'); i >= 0 && i + 1 < html.Length; i = html.IndexOf('<', i + 1))
        {
            if (html[i + 1] == '/') { open = Math.Max(0, open - 1); continue; }
            if (!char.IsAsciiLetter(html[i + 1])) continue;
            int end = i + 1;
            while (end < html.Length && char.IsAsciiLetterOrDigit(html[end])) end++;
            int close = html.IndexOf('>', end);
            bool selfClosed = close > 0 && html[close - 1] == '/';
            if (selfClosed || VoidElements.Contains(html[(i + 1)..end])) continue;
            if (++open > MaxOpenTags)
                throw new InvalidDocumentException($"more than {MaxOpenTags} HTML elements are open at once (unclosed or nested too deep); the limit protects the parser");
        }
    }
}
