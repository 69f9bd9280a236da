using Microsoft.ML.Tokenizers;

namespace Rag.Ingest.Chunking;

/// <summary>
/// Splits text into chunks of at most <see cref="ChunkTokens"/> tokens, each repeating at most the last
/// <see cref="OverlapTokens"/> tokens of the one before. A chunk ends at the last paragraph break in its token
/// window, else the last sentence end (or line end), else the last space, else exactly at the window; a break
/// is only taken in the second half of the window so chunks do not become tiny. Works with any
/// <see cref="Tokenizer"/> (o200k_base by default, RWKV World for the generator's own budget).
/// </summary>
public sealed class TokenChunker
{
    /// <summary>First guess of a window's length in chars per token; tokenizing cost grows with the span, so it is widened only when needed.</summary>
    private const int TypicalCharsPerToken = 8;

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
        int start = SkipWhitespace(text, 0), uncovered = start;
        while (uncovered < text.Length)
        {
            (int end, int tokens) = FindEnd(text, start, mustPass: uncovered);
            if (end <= uncovered)
            {
                // The overlap (with a long whitespace run) fills the whole window: start afresh without it.
                start = uncovered;
                (end, tokens) = FindEnd(text, start, mustPass: start);
            }

            AddTrimmed(chunks, text, start, end, tokens);
            if (end >= text.Length)
                break;
            start = SkipWhitespace(text, OverlapStart(text, start, end, tokens));
            uncovered = SkipWhitespace(text, end);
        }

        return chunks;
    }

    /// <summary>
    /// End of the chunk starting at <paramref name="start"/> and its token count; the end lies past
    /// <paramref name="mustPass"/> (the first char no chunk covers yet) when the window reaches that far.
    /// </summary>
    private (int End, int Tokens) FindEnd(string text, int start, int mustPass)
    {
        // Tokenized on its own, a span can in rare cases count more tokens than inside the longer window;
        // shrink the budget until the chosen span itself fits.
        for (int budget = ChunkTokens; ; budget--)
        {
            int end = ChooseBreak(text, start, mustPass, budget);
            int tokens = CountTokens(text.AsSpan(start, end - start));
            if (tokens <= ChunkTokens || budget == 1)
                return (end, tokens);
        }
    }

    private int ChooseBreak(string text, int start, int mustPass, int budget)
    {
        int windowEnd = WindowEnd(text, start, budget);
        if (windowEnd >= text.Length)
            return text.Length;

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

    /// <summary>Index just past the first <paramref name="budget"/> tokens from <paramref name="start"/>.</summary>
    private int WindowEnd(string text, int start, int budget)
    {
        for (long span = (long)budget * TypicalCharsPerToken; ; span *= 2)
        {
            int length = (int)Math.Min(text.Length - start, span);
            int fit = _tokenizer.GetIndexByTokenCount(
                text.AsSpan(start, length), budget, out _, out int tokens, considerPreTokenization: true, considerNormalization: false);
            bool wholeSpanFits = tokens < budget;
            if (!wholeSpanFits || start + length == text.Length)
                return AvoidSplittingSurrogates(text, start, start + fit);
        }
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

    /// <summary>
    /// Where the next chunk starts: after the first <c>tokens - OverlapTokens</c> tokens of this one, moved on
    /// until the shared text counts at most <see cref="OverlapTokens"/> tokens on its own.
    /// </summary>
    private int OverlapStart(string text, int start, int end, int tokens)
    {
        ReadOnlySpan<char> chunk = text.AsSpan(start, end - start);
        for (int skip = Math.Max(tokens - OverlapTokens, 1); skip < tokens; skip++)
        {
            int next = start + _tokenizer.GetIndexByTokenCount(chunk, skip, out _, out _, considerPreTokenization: true, considerNormalization: false);
            next = SkipWhitespace(text, AvoidSplittingSurrogates(text, start, next));
            if (next >= end)
                break;
            if (CountTokens(text.AsSpan(next, end - next)) <= OverlapTokens)
                return next;
        }

        return end;
    }

    /// <summary>Moves an index that falls between the halves of a surrogate pair; never returns <paramref name="start"/> itself.</summary>
    private static int AvoidSplittingSurrogates(string text, int start, int index)
    {
        if (index <= start || index >= text.Length || !char.IsLowSurrogate(text[index]))
            return Math.Max(index, start + 1);
        return index - 1 > start ? index - 1 : index + 1;
    }

    private void AddTrimmed(List<TextChunk> chunks, string text, int start, int end, int tokens)
    {
        int trimmedEnd = end;
        while (trimmedEnd > start && char.IsWhiteSpace(text[trimmedEnd - 1]))
            trimmedEnd--;
        if (trimmedEnd == start)
            return;
        string chunk = text[start..trimmedEnd];
        chunks.Add(new TextChunk(chunks.Count, chunk, trimmedEnd == end ? tokens : CountTokens(chunk), start, trimmedEnd));
    }

    private static int SkipWhitespace(string text, int index)
    {
        while (index < text.Length && char.IsWhiteSpace(text[index]))
            index++;
        return index;
    }
}
