namespace Rag.Generator.Tokenization;

/// <summary>
/// A trie over token byte strings for greedy longest-match encoding. Edges live in one dictionary keyed by
/// (node, byte): the World vocabulary has ~116k trie nodes, too many for 256-wide child arrays.
/// </summary>
internal sealed class ByteTrie
{
    private const int NoToken = -1;
    private readonly Dictionary<int, int> _edges = new();  // (node << 8) | byte -> child node
    private readonly List<int> _tokenAt = [NoToken];      // node -> token id ending there, node 0 = root

    /// <summary>Adds a token; returns false when another token already has the same bytes.</summary>
    public bool Add(ReadOnlySpan<byte> bytes, int tokenId)
    {
        var node = 0;
        foreach (var b in bytes)
        {
            var key = (node << 8) | b;
            if (!_edges.TryGetValue(key, out var child))
            {
                child = _tokenAt.Count;
                _tokenAt.Add(NoToken);
                _edges.Add(key, child);
            }
            node = child;
        }
        if (_tokenAt[node] != NoToken) return false;
        _tokenAt[node] = tokenId;
        return true;
    }

    /// <summary>The longest token that is a prefix of <paramref name="bytes"/>: its id and byte length, or (-1, 0).</summary>
    public (int TokenId, int Length) LongestPrefix(ReadOnlySpan<byte> bytes)
    {
        (int, int) best = (NoToken, 0);
        var node = 0;
        for (var i = 0; i < bytes.Length && _edges.TryGetValue((node << 8) | bytes[i], out node); i++)
        {
            if (_tokenAt[node] != NoToken) best = (_tokenAt[node], i + 1);
        }
        return best;
    }
}
