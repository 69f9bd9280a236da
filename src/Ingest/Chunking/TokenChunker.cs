using Microsoft.ML.Tokenizers;

namespace Rag.Ingest.Chunking;

/// <summary>
/// Splits text into chunks of at most <see cref="ChunkTokens"/> tokens, each repeating about the last
/// <see cref="OverlapTokens"/> tokens of the one before. A chunk ends at the last paragraph break in its token
/// window, else the last sentence end (or line end), else the last space, else exactly at the window; a break
/// is only taken in the second half of the window so chunks do not become tiny. Works with any
/// <see cref="Tokenizer"/> (o200k_base by default, RWKV World for the generator's own budget).
/// </summary>
public sealed class TokenChunker
{
    /// <summary>Longest span handed to the tokenizer per window, in chars per target token; keeps chunking linear in the text length.</summary>
    private const int MaxCharsPerToken = 32;

    private readonly Tokenizer _tokenizer;

    public TokenChunker(Tokenizer tokenizer, int chunkTokens, int overlapTokens)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(overlapTokens);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(overlapTokens, chunkTokens);
        _tokenizer = tokenizer;
        ChunkTokens = chunkTokens;
        OverlapTokens = overlapTokens;
    }

    /// <summary>A chunker with the tiktoken encoding and sizes of <paramref name="options"/>.</summary>
    public static TokenChunker Create(IngestOptions options) =>
        new(TiktokenTokenizer.CreateForEncoding(options.Encoding), options.ChunkTokens, options.ChunkOverlapTokens);

    public int ChunkTokens { get; }

    public int OverlapTokens { get; }

    public int CountTokens(ReadOnlySpan<char> text) => _tokenizer.CountTokens(text, considerPreTokenization: true, considerNormalization: false);

    public IReadOnlyList<TextChunk> Chunk(string text)
    {
        var chunks = new List<TextChunk>();
        int start = SkipWhitespace(text, 0);
        int previousEnd = start;
        while (start < text.Length)
        {
            int end = FindEnd(text, start, mustPass: Math.Max(previousEnd, start));
            AddTrimmed(chunks, text, start, end);
            if (end >= text.Length)
                break;
            start = SkipWhitespace(text, OverlapStart(text, start, end));
            previousEnd = end;
        }

        return chunks;
    }

    /// <summary>End of the chunk starting at <paramref name="start"/>; it must lie past <paramref name="mustPass"/> so every chunk adds new text.</summary>
    private int FindEnd(string text, int start, int mustPass)
    {
        // Re-tokenizing a prefix can in rare cases give more tokens than the same text inside the window;
        // shrink the budget until the chosen span itself fits.
        for (int budget = ChunkTokens; ; budget--)
        {
            int end = ChooseBreak(text, start, mustPass, budget);
            if (end >= text.Length || budget == 1 || CountTokens(text.AsSpan(start, end - start)) <= ChunkTokens)
                return end;
        }
    }

    private int ChooseBreak(string text, int start, int mustPass, int budget)
    {
        int spanLength = (int)Math.Min(text.Length - start, (long)budget * MaxCharsPerToken);
        int windowEnd = start + _tokenizer.GetIndexByTokenCount(
            text.AsSpan(start, spanLength), budget, out _, out _, considerPreTokenization: true, considerNormalization: false);
        if (windowEnd >= text.Length)
            return text.Length;
        windowEnd = AvoidSplittingSurrogates(text, start, windowEnd);

        int searchFrom = Math.Max(start + (windowEnd - start) / 2, mustPass + 1);
        if (searchFrom >= windowEnd)
            return windowEnd;
        ReadOnlySpan<char> window = text.AsSpan(searchFrom, windowEnd - searchFrom);

        int paragraph = window.LastIndexOf("\n\n");
        if (paragraph >= 0)
            return searchFrom + paragraph;
        int sentence = LastSentenceEnd(window);
        if (sentence >= 0)
            return searchFrom + sentence;
        int space = window.LastIndexOfAny(" \t");
        return space >= 0 ? searchFrom + space : windowEnd;
    }

    /// <summary>Index just after a sentence's closing punctuation (which must be followed by whitespace), or of a line break.</summary>
    private static int LastSentenceEnd(ReadOnlySpan<char> window)
    {
        for (int i = window.Length - 1; i > 0; i--)
        {
            if (window[i] == '\n')
                return i;
            if (char.IsWhiteSpace(window[i]) && window[i - 1] is '.' or '!' or '?' or ';' or ':' or '。' or '！' or '？')
                return i;
        }

        return -1;
    }

    /// <summary>Where the next chunk starts: at most the last <see cref="OverlapTokens"/> tokens of this one, counted on their own.</summary>
    private int OverlapStart(string text, int start, int end)
    {
        for (int budget = OverlapTokens; budget > 0; budget--)
        {
            int next = start + _tokenizer.GetIndexByTokenCountFromEnd(
                text.AsSpan(start, end - start), budget, out _, out _, considerNormalization: false);
            next = SkipWhitespace(text, AvoidSplittingSurrogates(text, start, next));
            if (next >= end)
                break;
            if (CountTokens(text.AsSpan(next, end - next)) <= OverlapTokens)
                return next;
        }

        return end;
    }

    private static int AvoidSplittingSurrogates(string text, int start, int index)
    {
        if (index <= start || index >= text.Length || !char.IsLowSurrogate(text[index]))
            return Math.Max(index, start + 1);
        return index - 1 > start ? index - 1 : index + 1;
    }

    private void AddTrimmed(List<TextChunk> chunks, string text, int start, int end)
    {
        while (end > start && char.IsWhiteSpace(text[end - 1]))
            end--;
        if (end == start)
            return;
        string chunk = text[start..end];
        chunks.Add(new TextChunk(chunks.Count, chunk, CountTokens(chunk), start, end));
    }

    private static int SkipWhitespace(string text, int index)
    {
        while (index < text.Length && char.IsWhiteSpace(text[index]))
            index++;
        return index;
    }
}
