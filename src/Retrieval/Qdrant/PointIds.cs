using System.Security.Cryptography;
using System.Text;

namespace Rag.Retrieval.Qdrant;

/// <summary>
/// Deterministic point ids (name-based UUIDs, RFC 9562 version 8 over SHA-256), so that retried writes overwrite
/// instead of duplicating. A document's id derives from its source; a chunk's from its document, the content hash
/// of that version and its ordinal, so that a new version never overwrites the old one before it is complete.
/// </summary>
internal static class PointIds
{
    public static string ForDocument(string source) => FromName("document\n" + source);

    public static string ForChunk(string documentId, string contentHash, int ordinal) =>
        FromName($"chunk\n{documentId}\n{contentHash}\n{ordinal}");

    private static string FromName(string name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // version 8: custom
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(bytes, bigEndian: true).ToString("D");
    }
}
