using System.IO.Compression;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Rag.Ingest.Tests;

/// <summary>Real files built in memory with the same libraries' writers, so the loaders read genuine formats.</summary>
public static class SampleDocuments
{
    /// <summary>A PDF with one line of text per page.</summary>
    public static byte[] Pdf(string title, params string[] pageLines)
    {
        var builder = new PdfDocumentBuilder();
        builder.DocumentInformation.Title = title;
        PdfDocumentBuilder.AddedFont font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (string line in pageLines)
            builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4).AddText(line, 12, new PdfPoint(50, 700), font);
        return builder.Build();
    }

    /// <summary>A Word document with one paragraph per string.</summary>
    public static byte[] Docx(string title, params string[] paragraphs)
    {
        using var stream = new MemoryStream();
        using (var document = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            document.PackageProperties.Title = title;
            MainDocumentPart main = document.AddMainDocumentPart();
            main.Document = new Document(new Body(paragraphs.Select(p => new Paragraph(new Run(new Text(p))))));
        }

        return stream.ToArray();
    }

    /// <summary>
    /// A valid DOCX carrying one extra entry that inflates to <paramref name="bombBytes"/> zero bytes from a
    /// few kilobytes: the shape of a zip bomb.
    /// </summary>
    public static byte[] DocxWithBomb(long bombBytes)
    {
        using var stream = new MemoryStream();
        stream.Write(Docx("Bomb", "Looks harmless."));
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            using Stream entry = zip.CreateEntry("word/media/padding.bin", CompressionLevel.SmallestSize).Open();
            var zeros = new byte[1 << 16];
            for (long written = 0; written < bombBytes; written += zeros.Length)
                entry.Write(zeros);
        }

        return stream.ToArray();
    }
}
