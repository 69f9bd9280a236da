using Markdig;
using Markdig.Renderers;
using Markdig.Syntax;

namespace Rag.Ingest.Loading;

/// <summary>Markdown rendered to plain text by Markdig: markup dropped, headings kept as their own lines.</summary>
public sealed class MarkdownLoader : IDocumentLoader
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    public IReadOnlyList<string> Extensions { get; } = [".md", ".markdown"];

    public ExtractedText Extract(byte[] content)
    {
        MarkdownDocument document = Markdown.Parse(StrictTextDecoder.Decode(content), Pipeline);
        return new ExtractedText(RenderPlainText(document), FirstHeading(document));
    }

    private static string RenderPlainText(MarkdownDocument document)
    {
        using var writer = new StringWriter();
        // Markdig's plain-text rendering is its HTML renderer with tags and escaping switched off.
        var renderer = new HtmlRenderer(writer) { EnableHtmlForBlock = false, EnableHtmlForInline = false, EnableHtmlEscape = false };
        Pipeline.Setup(renderer);
        renderer.Render(document);
        writer.Flush();
        return writer.ToString();
    }

    private static string? FirstHeading(MarkdownDocument document)
    {
        HeadingBlock? heading = document.Descendants<HeadingBlock>().FirstOrDefault();
        if (heading?.Inline is null)
            return null;
        return string.Concat(heading.Inline.Descendants<Markdig.Syntax.Inlines.LiteralInline>().Select(l => l.Content.ToString()));
    }
}
