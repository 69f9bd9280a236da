using System.Runtime.InteropServices;
using System.Text;

namespace Rag.Generator.Tokenization;

/// <summary>
/// Turns token ids into text one id at a time. A token may end inside a multi-byte UTF-8 character
/// (World tokens are byte strings), so the bytes of an incomplete character are held until later ids complete it.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly WorldTokenizer _tokenizer;
    private readonly List<byte> _pending = [];

    internal StreamingDecoder(WorldTokenizer tokenizer) => _tokenizer = tokenizer;

    /// <summary>Bytes received that do not yet form a complete character.</summary>
    public int PendingByteCount => _pending.Count;

    /// <summary>Adds one token; returns the text it completes (empty while a character is still incomplete).
    /// Invalid UTF-8 comes out as U+FFFD.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is not in the vocabulary.</exception>
    public string Append(int tokenId)
    {
        _pending.AddRange(_tokenizer.GetTokenBytes(tokenId));
        var pending = CollectionsMarshal.AsSpan(_pending);
        var complete = CompletePrefixLength(pending);
        var text = Encoding.UTF8.GetString(pending[..complete]);
        _pending.RemoveRange(0, complete);
        return text;
    }

    /// <summary>Ends the stream: held bytes (an unfinished character) come out as U+FFFD.</summary>
    public string Flush()
    {
        var text = Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(_pending));
        _pending.Clear();
        return text;
    }

    // Everything up to a trailing, still-incomplete UTF-8 sequence.
    private static int CompletePrefixLength(ReadOnlySpan<byte> bytes)
    {
        var length = 0;
        while (length < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[length..], out _, out var consumed) == System.Buffers.OperationStatus.NeedMoreData) break;
            length += consumed;
        }
        return length;
    }
}
