using System.Buffers;
using System.Text;
using System.Text.Json;
using Rag.Generator.Tokenization;

namespace Rag.Generator.Tests;

public class WorldTokenizerTests
{
    private static readonly WorldTokenizer Tokenizer = WorldVocabulary.Tokenizer;

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Cases.Value.Length; i++) data.Add(i);
        return data;
    }

    private static readonly Lazy<(string Text, int[] Ids)[]> Cases = new(() =>
    {
        using var json = JsonDocument.Parse(File.ReadAllText(TestData.Path("rwkv7", "rwkv-world-tokenizer-cases.json")));
        return json.RootElement.EnumerateArray()
            .Select(c => (c.GetProperty("text").GetString()!, c.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray()))
            .ToArray();
    });

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void Encodes_reference_cases_exactly(int index)
    {
        var (text, ids) = Cases.Value[index];
        Assert.Equal(ids, Tokenizer.EncodeToIds(text));
        Assert.Equal(ids.Length, Tokenizer.CountTokens(text));
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void Decodes_reference_cases_exactly(int index)
    {
        var (text, ids) = Cases.Value[index];
        Assert.Equal(text, Tokenizer.Decode(ids));
    }

    [Fact]
    public void Vocabulary_covers_the_reference_ids()
    {
        Assert.Equal(65530, Tokenizer.VocabSize);
        Assert.Equal("Hello", Encoding.UTF8.GetString(Tokenizer.GetTokenBytes(33155)));
        Assert.Equal([0x80], Tokenizer.GetTokenBytes(129).ToArray());
    }

    [Fact]
    public void Token_offsets_point_into_the_text()
    {
        var tokens = Tokenizer.EncodeToTokens("Hello world", out _);
        Assert.Equal(["Hello", " world"], tokens.Select(t => t.Value));
        Assert.Equal([(0, 5), (5, 11)], tokens.Select(t => (t.Offset.Start.Value, t.Offset.End.Value)));
    }

    [Fact]
    public void Token_limit_never_cuts_a_character()
    {
        // "🚀" is split over several byte-level tokens; a limit inside it must stop before it.
        var text = "Emoji 🚀🔥";
        var all = Tokenizer.EncodeToIds(text);
        var firstEmojiToken = Tokenizer.EncodeToIds("Emoji ").Count;
        Assert.True(all.Count > firstEmojiToken + 1, "the emoji should take more than one token");

        var ids = Tokenizer.EncodeToIds(text, firstEmojiToken + 1, out _, out var charsConsumed);
        Assert.Equal(firstEmojiToken, ids.Count);
        Assert.Equal("Emoji ".Length, charsConsumed);
    }

    [Fact]
    public void Index_by_token_count_cuts_at_token_ends()
    {
        Assert.Equal(5, Tokenizer.GetIndexByTokenCount("Hello world", 1, out _, out var count));
        Assert.Equal(1, count);
        Assert.Equal(5, Tokenizer.GetIndexByTokenCountFromEnd("Hello world", 1, out _, out count));
        Assert.Equal(1, count);
    }

    [Fact]
    public void Span_decode_reports_a_too_small_destination()
    {
        var ids = Tokenizer.EncodeToIds("Hello world");
        var buffer = new char[8];
        Assert.Equal(OperationStatus.DestinationTooSmall, Tokenizer.Decode(ids, buffer, out var idsConsumed, out var written));
        Assert.Equal(1, idsConsumed);
        Assert.Equal("Hello", new string(buffer, 0, written));

        buffer = new char[11];
        Assert.Equal(OperationStatus.Done, Tokenizer.Decode(ids, buffer, out idsConsumed, out written));
        Assert.Equal((2, "Hello world"), (idsConsumed, new string(buffer, 0, written)));
    }

    [Fact]
    public void Unknown_id_is_rejected_with_its_value()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Decode([33155, 70000]));
        Assert.Contains("70000", e.Message);
        Assert.Equal(OperationStatus.InvalidData, Tokenizer.Decode([70000], new char[10], out _, out _));
    }

    [Fact]
    public void End_of_text_decodes_to_nothing()
    {
        Assert.Equal("Hello", Tokenizer.Decode([33155, WorldTokenizer.EndOfTextId]));
    }
}
