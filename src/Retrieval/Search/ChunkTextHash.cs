using System.Security.Cryptography;
using System.Text;

namespace Rag.Retrieval.Search;

/// <summary>Hash of a chunk's text, whitespace-normalised so re-flowed copies of a passage collide.</summary>
public static class ChunkTextHash
{
    public static string Compute(string text)
    {
        var normalised = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalised)));
    }
}
