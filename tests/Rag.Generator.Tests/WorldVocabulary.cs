using Rag.Generator.Tokenization;

namespace Rag.Generator.Tests;

/// <summary>The real World vocabulary, loaded once for all tests.</summary>
internal static class WorldVocabulary
{
    private static readonly Lazy<WorldTokenizer> Instance = new(() => WorldTokenizer.Load(TestData.Path("rwkv_vocab_v20230424.txt")));

    public static WorldTokenizer Tokenizer => Instance.Value;
}
