using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Rag.Ingest.Pipeline;

/// <summary>
/// What a text document must be to be ingested, and its content hash: written once for the pipeline, the file loaders
/// and the front ends that check uploads before queueing them (so a client hears of a bad document at once).
/// </summary>
public static class DocumentRules
{
    /// <param name="problem">The first broken rule, naming the document; null when the document may be ingested.</param>
    public static bool IsValid([NotNullWhen(true)] string? source, [NotNullWhen(true)] string? text, [NotNullWhen(false)] out string? problem)
    {
        problem = string.IsNullOrWhiteSpace(source) ? "The document source is empty."
            : source.Contains('\0') ? $"Document source '{source.Replace('\0', '?')}' contains NUL characters."
            : string.IsNullOrWhiteSpace(text) ? $"Document '{source}' has no text."
            : text.Contains('\0') ? $"Document '{source}' contains NUL characters."
            : null;
        return problem is null;
    }

    /// <summary>The stored content hash: SHA-256 of the UTF-8 text, lower-case hex. Same text, same hash, nothing re-indexed.</summary>
    public static string ContentHash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
