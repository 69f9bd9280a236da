using System.Text;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using Microsoft.Extensions.Options;

namespace Rag.Ingest.Loading;

/// <summary>Paragraph text of a Word document (Open XML SDK), one paragraph per block, after a zip bomb check.</summary>
public sealed class DocxLoader(IOptions<IngestOptions> options) : IDocumentLoader
{
    private readonly ZipBombGuard _zipGuard = new(options.Value.MaxDecompressedBytes, options.Value.MaxCompressionRatio);

    public IReadOnlyList<string> Extensions { get; } = [".docx"];

    public ExtractedText Extract(byte[] content)
    {
        _zipGuard.Check(content);
        using WordprocessingDocument document = WordprocessingDocument.Open(new MemoryStream(content, writable: false), isEditable: false);
        Body body = document.MainDocumentPart?.Document?.Body
            ?? throw new InvalidDocumentException("not a Word document: no main document body");

        IEnumerable<string> paragraphs = body.Descendants<Paragraph>().Select(ParagraphText).Where(p => p.Length > 0);
        string? title = document.PackageProperties.Title;
        return new ExtractedText(string.Join("\n\n", paragraphs), string.IsNullOrWhiteSpace(title) ? null : title.Trim());
    }

    /// <summary>
    /// Run text with tabs and manual line breaks, which <c>InnerText</c> would drop. Runs of paragraphs nested
    /// inside this one (text boxes) belong to those paragraphs, which are visited on their own.
    /// </summary>
    private static string ParagraphText(Paragraph paragraph)
    {
        var text = new StringBuilder();
        foreach (Run run in paragraph.Descendants<Run>().Where(r => r.Ancestors<Paragraph>().First() == paragraph))
        {
            foreach (var element in run.ChildElements)
            {
                switch (element)
                {
                    case Text t: text.Append(t.Text); break;
                    case TabChar: text.Append('\t'); break;
                    case Break or CarriageReturn: text.Append('\n'); break;
                }
            }
        }

        return text.ToString().Trim();
    }
}
