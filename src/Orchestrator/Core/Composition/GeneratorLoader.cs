using Rag.Generator.Generation;
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
        RequireFile(options.ModelPath, "ModelPath");
        RequireFile(options.VocabPath, "VocabPath");
        return Rwkv7Model.Load(options.ModelPath, new ModelLoadOptions
        {
            Device = options.Device, Dtype = options.Dtype, ChunkLength = options.ChunkLength, SegmentLength = options.SegmentLength,
            Kernels = options.Kernels, NvrtcPath = options.NvrtcPath, KernelCacheDirectory = options.KernelCacheDirectory,
        });
    }

    /// <summary>The vocabulary, refused when it holds token ids the model has no embedding for.</summary>
    public static WorldTokenizer LoadVocabulary(GeneratorOptions options, int modelVocabSize)
    {
        WorldTokenizer tokenizer;
        try
        {
            tokenizer = WorldTokenizer.Load(options.VocabPath);
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

    private static void RequireFile(string path, string key)
    {
        if (!File.Exists(path))
            throw new RagInputException($"{GeneratorOptions.SectionName}:{key} '{path}' does not exist.");
    }
}
