using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Rag.Retrieval.Embeddings;

/// <summary>
/// WordPiece tokenization as the Hugging Face BertTokenizer does it: [CLS] tokens [SEP], truncated to a maximum length.
/// Lower-casing, accent stripping and CJK splitting follow tokenizer_config.json unless the options override casing.
/// </summary>
internal sealed class BertTextTokenizer
{
    private readonly BertTokenizer _tokenizer;
    private readonly int _maxLength;

    private BertTextTokenizer(BertTokenizer tokenizer, int maxLength)
    {
        _tokenizer = tokenizer;
        _maxLength = maxLength;
    }

    public static BertTextTokenizer Load(string modelDirectory, bool? lowerCase, int maxLength)
    {
        var vocabPath = Path.Combine(modelDirectory, "vocab.txt");
        if (!File.Exists(vocabPath))
            throw new FileNotFoundException($"BERT vocabulary '{vocabPath}' does not exist (expected vocab.txt in the model directory)", vocabPath);
        var settings = ReadTokenizerConfig(Path.Combine(modelDirectory, "tokenizer_config.json"));
        var lower = lowerCase ?? settings.DoLowerCase ?? true;
        var options = new BertOptions
        {
            LowerCaseBeforeTokenization = lower,
            // Hugging Face strips accents whenever it lower-cases, unless strip_accents says otherwise.
            RemoveNonSpacingMarks = settings.StripAccents ?? lower,
            IndividuallyTokenizeCjk = settings.TokenizeChineseChars ?? true,
        };
        return new BertTextTokenizer(BertTokenizer.Create(vocabPath, options), maxLength);
    }

    /// <summary>[CLS] w1 … wn [SEP], keeping the first MaxLength − 2 word pieces of a long text.</summary>
    public int[] Encode(string text)
    {
        var pieces = _tokenizer.EncodeToIds(text, addSpecialTokens: false);
        var kept = Math.Min(pieces.Count, _maxLength - 2);
        var ids = new int[kept + 2];
        ids[0] = _tokenizer.ClassificationTokenId;
        for (var i = 0; i < kept; i++) ids[i + 1] = pieces[i];
        ids[^1] = _tokenizer.SeparatorTokenId;
        return ids;
    }

    public int PaddingTokenId => _tokenizer.PaddingTokenId;

    private sealed record Settings(bool? DoLowerCase, bool? StripAccents, bool? TokenizeChineseChars);

    private static Settings ReadTokenizerConfig(string path)
    {
        if (!File.Exists(path)) return new Settings(null, null, null);
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(path));
            return new Settings(Flag(json.RootElement, "do_lower_case"), Flag(json.RootElement, "strip_accents"), Flag(json.RootElement, "tokenize_chinese_chars"));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Tokenizer config '{path}' is not valid JSON: {e.Message}", e);
        }

        static bool? Flag(JsonElement root, string key) =>
            root.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
    }
}
