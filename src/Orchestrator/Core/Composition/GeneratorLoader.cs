using Rag.Generator.Generation;
using Rag.Generator.Hub;
using Rag.Generator.Model;
using Rag.Generator.Tokenization;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Composition;

/// <summary>
/// Loads the configured generator: settings and files are checked before the (slow) model load, and the vocabulary
/// is checked against the model, so that a pair that does not belong together fails at load (and /readyz says why)
/// rather than on every request.
/// </summary>
internal static class GeneratorLoader
{
    public static Rwkv7Model LoadModel(GeneratorOptions options)
    {
        var problems = options.Problems().ToList();
        if (problems.Count > 0) throw new RagInputException(string.Join(" ", problems));
        // Generator:ModelPath may be a file, the name of a pulled model (see `rag model list`) or random:SHAPE.
        var store = new ModelStore(options.ModelsDirectory);
        Resolved(() => store.ResolveVocabulary(options.VocabPath));
        if (options.ModelPath.StartsWith(GeneratorOptions.RandomPrefix, StringComparison.Ordinal))
            return Rwkv7Model.CreateRandom(Rwkv7Config.Published[options.ModelPath[GeneratorOptions.RandomPrefix.Length..]], options, seed: 1);
        var model = Resolved(() => store.ResolveModel(options.ModelPath));
        return Rwkv7Model.Load(model, options);
    }

    /// <summary>The vocabulary, refused when it holds token ids the model has no embedding for.</summary>
    public static WorldTokenizer LoadVocabulary(GeneratorOptions options, int modelVocabSize)
    {
        WorldTokenizer tokenizer;
        try
        {
            tokenizer = WorldTokenizer.Load(Resolved(() => new ModelStore(options.ModelsDirectory).ResolveVocabulary(options.VocabPath)));
        }
        catch (InvalidDataException e)
        {
            throw new RagInputException($"{GeneratorOptions.SectionName}:VocabPath: {e.Message}");
        }

        if (tokenizer.VocabSize > modelVocabSize)
            throw new RagInputException(
                $"{GeneratorOptions.SectionName}:VocabPath '{options.VocabPath}' has token ids up to {tokenizer.VocabSize - 1}, but the model " +
                $"{GeneratorOptions.SectionName}:ModelPath '{options.ModelPath}' has a vocabulary of {modelVocabSize}: they do not belong together.");
        return tokenizer;
    }

    /// <summary>A settings path resolved to an existing file; a missing one is bad input, named by setting.</summary>
    private static string Resolved(Func<string> resolve)
    {
        try
        {
            var path = resolve();
            return File.Exists(path) ? path : throw new FileNotFoundException($"{GeneratorOptions.SectionName}:VocabPath '{path}' does not exist.");
        }
        catch (FileNotFoundException e)
        {
            throw new RagInputException(e.Message);
        }
    }
}
