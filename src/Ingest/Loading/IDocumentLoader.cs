namespace Rag.Ingest.Loading;

/// <summary>Extracts plain text from the bytes of one file type.</summary>
public interface IDocumentLoader
{
    /// <summary>Lower-case extensions with the dot, e.g. ".txt".</summary>
    IReadOnlyList<string> Extensions { get; }

    /// <summary>The text and title found in <paramref name="content"/>.</summary>
    /// <exception cref="InvalidDocumentException">The content breaks a rule of the format or of ingestion.</exception>
    ExtractedText Extract(byte[] content);
}

/// <param name="Title">Title found inside the document, or null to fall back to the file name.</param>
public sealed record ExtractedText(string Text, string? Title);

/// <summary>A file's content is not acceptable; the message says why, without the path (the caller adds it).</summary>
public sealed class InvalidDocumentException(string reason, Exception? inner = null) : Exception(reason, inner);
