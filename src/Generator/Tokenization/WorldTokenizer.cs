using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Rag.Generator.Tokenization;

/// <summary>
/// The RWKV "World" tokenizer (rwkv_vocab_v20230424): greedy longest match over the UTF-8 bytes of the text,
/// no normalisation, no pre-tokenisation. Id 0 is the end-of-text token and has no bytes.
/// </summary>
public sealed class WorldTokenizer : Tokenizer
{
    public const int EndOfTextId = 0;

    private readonly byte[]?[] _tokenBytes;  // id -> bytes; null where the file has no such id
    private readonly ByteTrie _trie;

    private WorldTokenizer(byte[]?[] tokenBytes, ByteTrie trie)
    {
        _tokenBytes = tokenBytes;
        _trie = trie;
    }

    /// <summary>One more than the largest id in the vocabulary file (model vocabularies may be padded beyond it).</summary>
    public int VocabSize => _tokenBytes.Length;

    /// <summary>
    /// Loads a vocabulary file whose lines read <c>&lt;id&gt; &lt;Python str or bytes literal&gt; &lt;byte length&gt;</c>.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is malformed; the message names the file and line.</exception>
    public static WorldTokenizer Load(string vocabPath)
    {
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"RWKV vocabulary file not found: {vocabPath}", vocabPath);

        var entries = new List<(int Id, byte[] Bytes)>();
        var trie = new ByteTrie();
        var ids = new HashSet<int>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(vocabPath, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            try
            {
                var (id, bytes) = ParseLine(line);
                if (!ids.Add(id)) throw new FormatException($"token id {id} appears twice");
                if (!trie.Add(bytes, id)) throw new FormatException($"token {id} repeats the bytes of an earlier token");
                entries.Add((id, bytes));
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{vocabPath}:{lineNumber}: {e.Message}", e);
            }
        }
        if (entries.Count == 0) throw new InvalidDataException($"{vocabPath}: the vocabulary file has no tokens");

        var tokenBytes = new byte[]?[entries.Max(e => e.Id) + 1];
        foreach (var (id, bytes) in entries) tokenBytes[id] = bytes;
        // Greedy matching can only encode every text when every single byte is a token.
        for (var b = 0; b < 256; b++)
        {
            if (trie.LongestPrefix([(byte)b]).TokenId < 0)
                throw new InvalidDataException($"{vocabPath}: the vocabulary lacks the single byte 0x{b:X2}, so some texts could not be encoded");
        }
        return new WorldTokenizer(tokenBytes, trie);
    }

    /// <exception cref="FormatException">The line breaks the format; the message says how.</exception>
    private static (int Id, byte[] Bytes) ParseLine(string line)
    {
        var first = line.IndexOf(' ');
        var last = line.LastIndexOf(' ');
        if (first <= 0 || last <= first) throw new FormatException($"expected '<id> <literal> <byte length>', got: {line}");
        if (!int.TryParse(line.AsSpan(0, first), NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id == EndOfTextId)
            throw new FormatException($"token id must be a positive integer (0 is end of text), got '{line[..first]}'");
        if (!int.TryParse(line.AsSpan(last + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            throw new FormatException($"byte length must be a non-negative integer, got '{line[(last + 1)..]}'");
        var bytes = PythonLiteral.ToBytes(line[(first + 1)..last]);
        if (bytes.Length == 0) throw new FormatException($"token {id} is empty");
        if (bytes.Length != length) throw new FormatException($"token {id} has {bytes.Length} bytes but the line declares {length}");
        return (id, bytes);
    }

    /// <summary>The bytes of token <paramref name="id"/> (empty for end of text).</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such token.</exception>
    public ReadOnlySpan<byte> GetTokenBytes(int id)
    {
        if (id == EndOfTextId) return [];
        if (id < 0 || id >= _tokenBytes.Length || _tokenBytes[id] is not { } bytes)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"not a token id of this vocabulary (1..{_tokenBytes.Length - 1})");
        return bytes;
    }

    /// <summary>A decoder that turns ids into text one at a time, holding back incomplete UTF-8 characters.</summary>
    public StreamingDecoder CreateStreamingDecoder() => new(this);

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var span = text is null ? textSpan : text.AsSpan();
        var encoding = Encode(span, settings.MaxTokenCount);
        var tokens = new List<EncodedToken>(encoding.Tokens.Count);
        foreach (var (id, byteStart, byteEnd) in encoding.Tokens)
        {
            var value = Encoding.UTF8.GetString(encoding.Utf8, byteStart, byteEnd - byteStart);
            tokens.Add(new EncodedToken(id, value, new Range(encoding.CharContaining[byteStart], encoding.CharAtOrAfter[byteEnd])));
        }
        return new EncodeResults<EncodedToken> { Tokens = tokens, CharsConsumed = encoding.CharsConsumed };
    }

    protected override EncodeResults<int> EncodeToIds(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var encoding = Encode(text is null ? textSpan : text.AsSpan(), settings.MaxTokenCount);
        return new EncodeResults<int> { Tokens = encoding.Tokens.ConvertAll(t => t.Id), CharsConsumed = encoding.CharsConsumed };
    }

    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings) =>
        Encode(text is null ? textSpan : text.AsSpan(), settings.MaxTokenCount).Tokens.Count;

    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        ArgumentNullException.ThrowIfNull(ids);
        idsConsumed = 0;
        charsWritten = 0;
        var decoder = CreateStreamingDecoder();
        var pendingIds = 0;  // ids whose bytes are still held back as an incomplete character
        foreach (var id in ids)
        {
            if (!IsKnown(id)) return OperationStatus.InvalidData;
            var piece = decoder.Append(id);
            pendingIds++;
            if (piece.Length == 0) continue;
            if (!TryWrite(piece, destination, ref charsWritten)) return OperationStatus.DestinationTooSmall;
            if (decoder.PendingByteCount == 0)
            {
                idsConsumed += pendingIds;
                pendingIds = 0;
            }
        }
        if (!TryWrite(decoder.Flush(), destination, ref charsWritten)) return OperationStatus.DestinationTooSmall;
        idsConsumed += pendingIds;
        return OperationStatus.Done;
    }

    /// <summary>Decodes ids to text; bytes that are not valid UTF-8 become U+FFFD.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public override string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (var id in ids) bytes.AddRange(GetTokenBytes(id));
        return Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(bytes));
    }

    private bool IsKnown(int id) => id == EndOfTextId || (id > 0 && id < _tokenBytes.Length && _tokenBytes[id] != null);

    private static bool TryWrite(string piece, Span<char> destination, ref int charsWritten)
    {
        if (!piece.AsSpan().TryCopyTo(destination[charsWritten..])) return false;
        charsWritten += piece.Length;
        return true;
    }

    private Utf8Encoding Encode(ReadOnlySpan<char> text, int maxTokens)
    {
        var utf8 = Utf8Encoding.Of(text);
        var bytes = utf8.Utf8.AsSpan();
        for (var position = 0; position < bytes.Length && utf8.Tokens.Count < maxTokens;)
        {
            var (id, length) = _trie.LongestPrefix(bytes[position..]);
            utf8.Tokens.Add((id, position, position + length));
            position += length;
        }
        // A token limit may cut inside a character: keep only tokens that end on a character boundary.
        while (utf8.Tokens.Count > 0 && !utf8.IsCharBoundary(utf8.Tokens[^1].ByteEnd))
            utf8.Tokens.RemoveAt(utf8.Tokens.Count - 1);
        utf8.CharsConsumed = utf8.Tokens.Count == 0 ? 0 : utf8.CharAtOrAfter[utf8.Tokens[^1].ByteEnd];
        return utf8;
    }

    /// <summary>A text's UTF-8 bytes with the byte-to-char maps needed for token offsets.</summary>
    private sealed class Utf8Encoding
    {
        public required byte[] Utf8 { get; init; }
        public required int[] CharContaining { get; init; }  // byte -> index of the char it belongs to
        public required int[] CharAtOrAfter { get; init; }   // byte -> index of the first char starting at or after it
        public List<(int Id, int ByteStart, int ByteEnd)> Tokens { get; } = [];
        public int CharsConsumed { get; set; }

        public bool IsCharBoundary(int byteIndex) => CharContaining[byteIndex] == CharAtOrAfter[byteIndex];

        public static Utf8Encoding Of(ReadOnlySpan<char> text)
        {
            var utf8 = new List<byte>(text.Length * 2);
            var containing = new List<int>(text.Length * 2);
            var atOrAfter = new List<int>(text.Length * 2);
            Span<byte> buffer = stackalloc byte[4];
            for (var i = 0; i < text.Length;)
            {
                // Lone surrogates become U+FFFD, as Encoding.UTF8 would encode them.
                Rune.DecodeFromUtf16(text[i..], out var rune, out var charCount);
                var byteCount = rune.EncodeToUtf8(buffer);
                for (var b = 0; b < byteCount; b++)
                {
                    utf8.Add(buffer[b]);
                    containing.Add(i);
                    atOrAfter.Add(b == 0 ? i : i + charCount);
                }
                i += charCount;
            }
            containing.Add(text.Length);
            atOrAfter.Add(text.Length);
            return new Utf8Encoding { Utf8 = [.. utf8], CharContaining = [.. containing], CharAtOrAfter = [.. atOrAfter] };
        }
    }
}
