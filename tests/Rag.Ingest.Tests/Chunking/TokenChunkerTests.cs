using Microsoft.ML.Tokenizers;
using Rag.Ingest.Chunking;

namespace Rag.Ingest.Tests.Chunking;

public class TokenChunkerTests
{
    private static readonly Tokenizer O200k = TiktokenTokenizer.CreateForEncoding("o200k_base");

    [Theory]
    [InlineData(64, 8)]
    [InlineData(128, 32)]
    [InlineData(256, 32)]
    [InlineData(50, 0)]
    public void Chunks_RespectTarget_OverlapAsConfigured_AndCoverTheText(int chunkTokens, int overlapTokens)
    {
        string text = SampleText.Prose(paragraphs: 60, seed: chunkTokens);
        var chunker = new TokenChunker(O200k, chunkTokens, overlapTokens);

        IReadOnlyList<TextChunk> chunks = chunker.Chunk(text);

        Assert.True(chunks.Count > 3);
        AssertChunkInvariants(text, chunks, O200k, chunkTokens);
        Assert.All(chunks.SkipLast(1), c => Assert.True(c.TokenCount >= chunkTokens / 3, $"chunk {c.Ordinal} has only {c.TokenCount} tokens"));
        for (int i = 1; i < chunks.Count; i++)
        {
            TextChunk previous = chunks[i - 1], next = chunks[i];
            if (overlapTokens == 0)
            {
                Assert.True(next.StartOffset >= previous.EndOffset, $"chunk {i} overlaps without overlap configured");
                continue;
            }

            Assert.True(next.StartOffset < previous.EndOffset, $"chunk {i} does not overlap chunk {i - 1}");
            int shared = O200k.CountTokens(text[next.StartOffset..previous.EndOffset]);
            Assert.InRange(shared, 1, overlapTokens);
        }
    }

    [Fact]
    public void Chunks_EndAtSentenceOrParagraph_WhenTheWindowHasOne()
    {
        string text = SampleText.Prose(paragraphs: 40, seed: 7);
        IReadOnlyList<TextChunk> chunks = new TokenChunker(O200k, 64, 0).Chunk(text);

        Assert.All(chunks, c => Assert.True(c.Text[^1] is '.' or '?', $"chunk {c.Ordinal} ends mid-sentence: '{c.Text[^20..]}'"));
    }

    [Fact]
    public void ParagraphBreak_IsPreferredOverLaterSentenceEnds()
    {
        string first = string.Join(' ', Enumerable.Repeat("The first paragraph has several short sentences.", 5));
        string second = string.Join(' ', Enumerable.Repeat("Then a second one follows.", 10));
        string text = first + "\n\n" + second;
        Assert.True(O200k.CountTokens(first) is > 32 and < 64, "test text no longer fits the window");

        IReadOnlyList<TextChunk> chunks = new TokenChunker(O200k, 64, 0).Chunk(text);

        Assert.Equal(first, chunks[0].Text);
        Assert.Equal(first.Length + 2, chunks[1].StartOffset);
    }

    [Fact]
    public void TextWithoutSpaces_IsCutHard_WithinTheTarget()
    {
        string text = string.Concat(Enumerable.Range(0, 3000).Select(i => (char)('a' + i * 7 % 26)));

        IReadOnlyList<TextChunk> chunks = new TokenChunker(O200k, 40, 5).Chunk(text);

        AssertChunkInvariants(text, chunks, O200k, 40);
    }

    [Fact]
    public void LongWhitespaceRuns_StayWithinTheTarget()
    {
        string text = string.Concat(Enumerable.Range(0, 30).Select(i => $"Word {i}." + new string(' ', 50 * i) + "\n"));

        IReadOnlyList<TextChunk> chunks = new TokenChunker(O200k, 24, 4).Chunk(text);

        AssertChunkInvariants(text, chunks, O200k, 24);
    }

    [Fact]
    public void Surrogate_Pairs_AreNeverSplit()
    {
        string text = string.Concat(Enumerable.Repeat("😀🚀𝔘", 400));

        IReadOnlyList<TextChunk> chunks = new TokenChunker(O200k, 16, 4).Chunk(text);

        AssertChunkInvariants(text, chunks, O200k, 16);
        Assert.All(chunks, c => Assert.False(char.IsLowSurrogate(c.Text[0]) || char.IsHighSurrogate(c.Text[^1])));
    }

    [Fact]
    public void ShortText_IsOneTrimmedChunk()
    {
        const string text = "\n  A short note.  \n";

        TextChunk chunk = Assert.Single(new TokenChunker(O200k, 256, 32).Chunk(text));

        Assert.Equal("A short note.", chunk.Text);
        Assert.Equal(3, chunk.StartOffset);
        Assert.Equal(O200k.CountTokens("A short note."), chunk.TokenCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \n\n\t ")]
    public void BlankText_HasNoChunks(string text) => Assert.Empty(new TokenChunker(O200k, 256, 32).Chunk(text));

    [Fact]
    public void AnyTokenizer_CanDriveTheChunker()
    {
        var twoCharTokens = new FixedWidthTokenizer(width: 2);
        string text = SampleText.Prose(paragraphs: 10, seed: 3);

        IReadOnlyList<TextChunk> chunks = new TokenChunker(twoCharTokens, 30, 5).Chunk(text);

        AssertChunkInvariants(text, chunks, twoCharTokens, 30);
        Assert.All(chunks, c => Assert.Equal((c.Text.Length + 1) / 2, c.TokenCount));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(64, -1)]
    [InlineData(64, 64)]
    public void InvalidSizes_AreRejected(int chunkTokens, int overlapTokens) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenChunker(O200k, chunkTokens, overlapTokens));

    /// <summary>Offsets match the text, counts are true, every chunk fits, order is strict and no text is lost.</summary>
    private static void AssertChunkInvariants(string text, IReadOnlyList<TextChunk> chunks, Tokenizer tokenizer, int chunkTokens)
    {
        var covered = new bool[text.Length];
        for (int i = 0; i < chunks.Count; i++)
        {
            TextChunk chunk = chunks[i];
            Assert.Equal(i, chunk.Ordinal);
            Assert.Equal(text[chunk.StartOffset..chunk.EndOffset], chunk.Text);
            Assert.Equal(tokenizer.CountTokens(chunk.Text), chunk.TokenCount);
            Assert.InRange(chunk.TokenCount, 1, chunkTokens);
            if (i > 0)
            {
                Assert.True(chunk.StartOffset > chunks[i - 1].StartOffset, $"chunk {i} does not start after chunk {i - 1}");
                Assert.True(chunk.EndOffset > chunks[i - 1].EndOffset, $"chunk {i} adds no new text");
            }

            Array.Fill(covered, true, chunk.StartOffset, chunk.EndOffset - chunk.StartOffset);
        }

        for (int i = 0; i < text.Length; i++)
            Assert.True(covered[i] || char.IsWhiteSpace(text[i]), $"char {i} ('{text[i]}') is in no chunk");
    }
}
