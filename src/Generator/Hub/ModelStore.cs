using Rag.Generator.Generation;

namespace Rag.Generator.Hub;

/// <summary>A model file in the models folder.</summary>
public sealed record StoredModel(string Name, string Path, long Bytes);

/// <summary>
/// The models folder (<c>Generator:ModelsDirectory</c>): what <c>rag model pull</c> fetches into it, what is there,
/// and how <c>Generator:ModelPath</c> / <c>Generator:VocabPath</c> resolve to files.
/// </summary>
public sealed class ModelStore(string directory)
{
    public string Directory { get; } = Path.GetFullPath(directory);

    public string VocabularyPath => Path.Combine(Directory, PublishedModels.Vocabulary.File);

    /// <summary>Pulls a published model by name (or any checkpoint by URL) and the World vocabulary.</summary>
    /// <returns>The model's local path.</returns>
    public async Task<string> PullAsync(string nameOrUrl, ModelDownloader downloader, Uri endpoint,
        IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (url, file) = Locate(nameOrUrl, endpoint);
        var target = Path.Combine(Directory, file);
        await downloader.DownloadAsync(url, target, progress, cancellationToken);
        await downloader.DownloadAsync(PublishedModels.Vocabulary.Url(endpoint), VocabularyPath, progress, cancellationToken);
        return target;
    }

    /// <summary>Checkpoints in the folder (complete ones: partial downloads are named <c>*.partial</c>).</summary>
    public IReadOnlyList<StoredModel> List()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return new DirectoryInfo(Directory).EnumerateFiles()
            .Where(f => f.Extension is ".pth" or ".safetensors")
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => new StoredModel(NameOf(f.Name), f.FullName, f.Length))
            .ToList();
    }

    /// <summary>
    /// <c>Generator:ModelPath</c> as a file: a path that exists, a published name that was pulled, or a file name in
    /// the folder.
    /// </summary>
    /// <exception cref="FileNotFoundException">None of these; the message says how to get the model.</exception>
    public string ResolveModel(string modelPath)
    {
        if (File.Exists(modelPath)) return modelPath;
        var candidates = new List<string> { Path.Combine(Directory, modelPath) };
        if (PublishedModels.ByName.TryGetValue(modelPath, out var published)) candidates.Insert(0, Path.Combine(Directory, published.File));
        return candidates.FirstOrDefault(File.Exists)
               ?? throw new FileNotFoundException(
                   $"{GeneratorOptions.SectionName}:ModelPath '{modelPath}' does not exist (neither a checkpoint file nor a model in {Directory}); " +
                   (published is null ? "give a file path, or " : "") + $"run `rag model pull {modelPath}` (see `rag model list`).");
    }

    /// <summary><c>Generator:VocabPath</c>, or the vocabulary pulled with the models when it is empty.</summary>
    public string ResolveVocabulary(string vocabPath)
    {
        if (!string.IsNullOrWhiteSpace(vocabPath)) return vocabPath;
        return File.Exists(VocabularyPath)
            ? VocabularyPath
            : throw new FileNotFoundException(
                $"{GeneratorOptions.SectionName}:VocabPath is empty and {VocabularyPath} does not exist; set it, or run `rag model pull NAME` to fetch the World vocabulary with a model.");
    }

    private static (Uri Url, string File) Locate(string nameOrUrl, Uri endpoint)
    {
        if (PublishedModels.ByName.TryGetValue(nameOrUrl, out var published)) return (published.Url(endpoint), published.File);
        if (Uri.TryCreate(nameOrUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
        {
            var file = Uri.UnescapeDataString(url.Segments[^1]);
            if (Path.GetExtension(file) is not (".pth" or ".safetensors"))
                throw new ArgumentException($"'{nameOrUrl}' does not name a .pth or .safetensors file.");
            return (url, file);
        }
        throw new ArgumentException(
            $"'{nameOrUrl}' is neither a published model name ({string.Join(", ", PublishedModels.ByName.Keys)}) nor an http(s) URL of a checkpoint.");
    }

    private static string NameOf(string file) =>
        PublishedModels.ByName.FirstOrDefault(e => e.Value.File == file).Key ?? Path.GetFileNameWithoutExtension(file);
}
