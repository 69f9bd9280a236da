using UglyToad.PdfPig;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;

namespace Rag.Ingest.Loading;

/// <summary>Text of every page in content order (PdfPig); pages are separated by a blank line.</summary>
public sealed class PdfLoader : IDocumentLoader
{
    public IReadOnlyList<string> Extensions { get; } = [".pdf"];

    public ExtractedText Extract(byte[] content)
    {
        using PdfDocument document = PdfDocument.Open(content);
        var pages = new List<string>(document.NumberOfPages);
        foreach (Page page in document.GetPages())
        {
            string text = ContentOrderTextExtractor.GetText(page).Trim();
            if (text.Length > 0)
                pages.Add(text);
        }

        string? title = document.Information.Title;
        return new ExtractedText(string.Join("\n\n", pages), string.IsNullOrWhiteSpace(title) ? null : title.Trim());
    }
}
