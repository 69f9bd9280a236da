using System.Text;
using Rag.Generator.Tokenization;

namespace Rag.Generator.Tests;

public class VocabularyFileTests : IDisposable
{
    private readonly string _path = Path.GetTempFileName();

    public void Dispose() => File.Delete(_path);

    // The 256 single-byte tokens every vocabulary needs, as ids 1..256, written the way Python's repr() does.
    private static IEnumerable<string> ByteLines() =>
        Enumerable.Range(0, 256).Select(b => $"{b + 1} b'\\x{b:x2}' 1");

    private WorldTokenizer LoadWith(params string[] extraLines)
    {
        File.WriteAllLines(_path, ByteLines().Concat(extraLines), new UTF8Encoding(false));
        return WorldTokenizer.Load(_path);
    }

    [Fact]
    public void Parses_str_and_bytes_literals_with_escapes()
    {
        var tokenizer = LoadWith(
            "257 'a\\'b' 3",
            "258 \"it's\" 4",
            "259 '\\n\\t\\\\' 3",
            "260 '\\u2002x' 4",
            "261 '\\xe9' 2",      // str \xe9 is U+00E9, two UTF-8 bytes
            "262 b'\\xe9\\xff' 2", // bytes \xe9 is one byte
            "263 'café' 5");
        Assert.Equal("a'b"u8.ToArray(), tokenizer.GetTokenBytes(257).ToArray());
        Assert.Equal("it's"u8.ToArray(), tokenizer.GetTokenBytes(258).ToArray());
        Assert.Equal("\n\t\\"u8.ToArray(), tokenizer.GetTokenBytes(259).ToArray());
        Assert.Equal("\u2002x"u8.ToArray(), tokenizer.GetTokenBytes(260).ToArray());
        Assert.Equal("é"u8.ToArray(), tokenizer.GetTokenBytes(261).ToArray());
        Assert.Equal(new byte[] { 0xE9, 0xFF }, tokenizer.GetTokenBytes(262).ToArray());
        Assert.Equal([263], tokenizer.EncodeToIds("café"));
    }

    [Theory]
    [InlineData("257 'ab' 3", "declares 3")]
    [InlineData("257 ab 2", "not a quoted Python literal")]
    [InlineData("257 'a\\q' 2", "unsupported escape")]
    [InlineData("257 '\\x4' 1", "escape")]
    [InlineData("x 'ab' 2", "token id")]
    [InlineData("0 'ab' 2", "token id")]
    [InlineData("257 'ab' two", "byte length")]
    [InlineData("257'ab'", "expected '<id> <literal> <byte length>'")]
    [InlineData("257 '\\ud800' 3", "lone surrogate")]
    [InlineData("257 'a' 1", "repeats")]
    [InlineData("300 'no' 2", "appears twice")]
    public void Corrupt_line_is_reported_with_file_and_line(string line, string problem)
    {
        var e = Assert.Throws<InvalidDataException>(() => LoadWith("300 'ok' 2", line));
        Assert.Contains($"{_path}:258:", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Missing_single_byte_is_reported()
    {
        File.WriteAllLines(_path, ByteLines().Where(l => !l.StartsWith("66 ")));
        var e = Assert.Throws<InvalidDataException>(() => WorldTokenizer.Load(_path));
        Assert.Contains(_path, e.Message);
        Assert.Contains("0x41", e.Message);
    }

    [Fact]
    public void Missing_file_is_named()
    {
        var e = Assert.Throws<FileNotFoundException>(() => WorldTokenizer.Load(_path + ".absent"));
        Assert.Contains(_path + ".absent", e.Message);
    }
}
