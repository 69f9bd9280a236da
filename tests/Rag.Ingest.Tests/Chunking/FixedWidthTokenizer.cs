using System.Buffers;
using Microsoft.ML.Tokenizers;

namespace Rag.Ingest.Tests.Chunking;

/// <summary>A tokenizer unlike tiktoken (no pre-tokenization, tokens cut across words): every <c>width</c> chars are one token.</summary>
public sealed class FixedWidthTokenizer(int width) : Tokenizer
{
    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        ReadOnlySpan<char> span = text is null ? textSpan : text.AsSpan();
        var tokens = new List<EncodedToken>();
        int consumed = 0;
        while (consumed < span.Length && tokens.Count < settings.MaxTokenCount)
        {
            int length = Math.Min(width, span.Length - consumed);
            tokens.Add(new EncodedToken(tokens.Count, span.Slice(consumed, length).ToString(), new Range(consumed, consumed + length)));
            consumed += length;
        }

        return new EncodeResults<EncodedToken> { Tokens = tokens, CharsConsumed = consumed };
    }

    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten) =>
        throw new NotSupportedException("Chunking never decodes.");
}
