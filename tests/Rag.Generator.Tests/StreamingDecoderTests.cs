using Rag.Generator.Tokenization;

namespace Rag.Generator.Tests;

public class StreamingDecoderTests
{
    private static readonly WorldTokenizer Tokenizer = WorldVocabulary.Tokenizer;

    [Fact]
    public void Holds_back_a_character_split_over_tokens()
    {
        // 0xF0 0x9F 0x9A 0x80 is 🚀; the byte tokens 241, 160, 155, 129 are its four bytes one per token.
        var ids = new[] { 241, 160, 155, 129 };
        Assert.Equal("🚀", Tokenizer.Decode(ids));

        var decoder = Tokenizer.CreateStreamingDecoder();
        Assert.Equal("", decoder.Append(ids[0]));
        Assert.Equal("", decoder.Append(ids[1]));
        Assert.Equal("", decoder.Append(ids[2]));
        Assert.Equal(3, decoder.PendingByteCount);
        Assert.Equal("🚀", decoder.Append(ids[3]));
        Assert.Equal(0, decoder.PendingByteCount);
    }

    [Fact]
    public void Streams_the_same_text_as_whole_decoding()
    {
        var text = "Emoji 🚀🔥 and accents: café naïve façade 中文分词";
        var pieces = new List<string>();
        var decoder = Tokenizer.CreateStreamingDecoder();
        foreach (var id in Tokenizer.EncodeToIds(text)) pieces.Add(decoder.Append(id));
        pieces.Add(decoder.Flush());

        Assert.Equal(text, string.Concat(pieces));
        Assert.Contains(pieces, p => p.Length == 0);  // some token ended inside a character
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
    }

    [Fact]
    public void Flush_replaces_an_unfinished_character()
    {
        var decoder = Tokenizer.CreateStreamingDecoder();
        Assert.Equal("", decoder.Append(241));
        Assert.Equal("\uFFFD", decoder.Flush());
        Assert.Equal(0, decoder.PendingByteCount);
    }
}
