using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

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
        renderer.ObjectRenderers.Replace<HtmlTableRenderer>(new PlainTableRenderer());
        renderer.Render(document);
        writer.Flush();
        return writer.ToString();
    }

    private static string? FirstHeading(MarkdownDocument document)
    {
        HeadingBlock? heading = document.Descendants<HeadingBlock>().FirstOrDefault();
        if (heading?.Inline is null)
            return null;
        return string.Concat(heading.Inline.Descendants<LiteralInline>().Select(l => l.Content.ToString()));
    }

    /// <summary>One line per table row, cells joined by " | " (the stock renderer runs a whole table into one line).</summary>
    private sealed class PlainTableRenderer : HtmlObjectRenderer<Table>
    {
        protected override void Write(HtmlRenderer renderer, Table table)
        {
            renderer.EnsureLine();
            foreach (TableRow row in table.OfType<TableRow>())
            {
                string separator = "";
                foreach (TableCell cell in row.OfType<TableCell>())
                {
                    renderer.Write(separator);
                    foreach (LeafBlock leaf in cell.OfType<LeafBlock>())
                        renderer.WriteLeafInline(leaf);
                    separator = " | ";
                }

                renderer.WriteLine();
            }
        }
    }
}
