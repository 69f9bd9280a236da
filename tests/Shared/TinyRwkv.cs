namespace Rag.Tests;

/// <summary>
/// The tiny RWKV-7 fixture model (vocabulary 1024) and a World vocabulary cut to the ids it knows.
/// Ids 1..256 of the World vocabulary are the single bytes, so every text still encodes.
/// </summary>
internal static class TinyRwkv
{
    public const int VocabSize = 1024;

    private static readonly Lazy<string> Vocab = new(WriteVocab);

    public static string ModelPath => TestData.Path("rwkv7", "rwkv7-tiny-a.pth");

    /// <summary>The reference implementation's logits for the fixture's cases (rag model check --expected).</summary>
    public static string ExpectedLogitsPath => TestData.Path("rwkv7", "rwkv7-tiny-a-expected.safetensors");

    public static string VocabPath => Vocab.Value;

    private static string WriteVocab()
    {
        var path = Scratch.Path("rwkv-vocab-tiny-", ".txt");
        var lines = File.ReadLines(TestData.Path("rwkv_vocab_v20230424.txt"))
            .Where(line => int.Parse(line.AsSpan(0, line.IndexOf(' ')), System.Globalization.CultureInfo.InvariantCulture) < VocabSize);
        File.WriteAllLines(path, lines);
        return path;
    }
}
