using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace Rag.Ingest.Loading;

/// <summary>Visible text of an HTML page (AngleSharp); scripts, styles and noscript fallbacks are dropped.</summary>
public sealed class HtmlLoader : IDocumentLoader
{
    private static readonly string[] InvisibleElements = ["script", "style", "noscript", "template"];

    public IReadOnlyList<string> Extensions { get; } = [".html", ".htm"];

    public ExtractedText Extract(byte[] content)
    {
        var parser = new HtmlParser();
        using IDocument document = parser.ParseDocument(StrictTextDecoder.Decode(content));
        foreach (IElement element in document.QuerySelectorAll(string.Join(',', InvisibleElements)).ToList())
            element.Remove();

        var writer = new HtmlTextWriter();
        writer.Write(document.Body ?? (INode?)document.DocumentElement ?? document);
        string? title = string.IsNullOrWhiteSpace(document.Title) ? null : document.Title.Trim();
        return new ExtractedText(writer.ToString(), title);
    }
}
