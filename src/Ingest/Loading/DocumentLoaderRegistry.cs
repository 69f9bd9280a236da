using Microsoft.Extensions.Options;
using Rag.Ingest.Pipeline;

namespace Rag.Ingest.Loading;

/// <summary>
/// Picks the loader for a file by its extension and applies the rules every file shares (exists, not empty,
/// under the size limit, some text extracted). Every problem comes back as an <see cref="IngestFailure"/>.
/// </summary>
public sealed class DocumentLoaderRegistry
{
    private readonly Dictionary<string, IDocumentLoader> _loaders = new(StringComparer.OrdinalIgnoreCase);
    private readonly long _maxFileBytes;

    public DocumentLoaderRegistry(IEnumerable<IDocumentLoader> loaders, IOptions<IngestOptions> options)
    {
        foreach (IDocumentLoader loader in loaders)
        {
            foreach (string extension in loader.Extensions)
            {
                if (!_loaders.TryAdd(extension, loader))
                    throw new ArgumentException(
                        $"Extension '{extension}' is claimed by both {_loaders[extension].GetType().Name} and {loader.GetType().Name}.", nameof(loaders));
            }
        }

        _maxFileBytes = options.Value.MaxFileBytes;
    }

    /// <summary>The registry with every built-in loader (.txt, .md, .html, .pdf, .docx).</summary>
    public static DocumentLoaderRegistry CreateDefault(IngestOptions options)
    {
        var wrapped = Options.Create(options);
        return new DocumentLoaderRegistry(
            [new PlainTextLoader(), new MarkdownLoader(), new HtmlLoader(), new PdfLoader(), new DocxLoader(wrapped)], wrapped);
    }

    public IReadOnlyCollection<string> SupportedExtensions => _loaders.Keys;

    public bool CanLoad(string path) => _loaders.ContainsKey(Path.GetExtension(path));

    /// <summary>The absolute path with "." and ".." resolved: the one key a file has in the store.</summary>
    public static string NormalizeSource(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    public async Task<LoadResult> LoadAsync(string path, CancellationToken cancellationToken = default)
    {
        string source = NormalizeSource(path);
        string extension = Path.GetExtension(source);
        if (!_loaders.TryGetValue(extension, out IDocumentLoader? loader))
            return LoadResult.Failed(source, $"unsupported file type '{extension}'");

        var file = new FileInfo(source);
        if (!file.Exists)
            return LoadResult.Failed(source, "file not found");
        if (file.Length > _maxFileBytes)
            return LoadResult.Failed(source, $"file is {file.Length} bytes, over the limit {IngestOptions.SectionName}:MaxFileBytes = {_maxFileBytes}");
        if (file.Length == 0)
            return LoadResult.Empty(source);

        byte[] content;
        try
        {
            content = await File.ReadAllBytesAsync(source, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return LoadResult.Failed(source, $"cannot read file: {e.Message}");
        }

        ExtractedText extracted;
        try
        {
            extracted = loader.Extract(content);
        }
        catch (InvalidDocumentException e)
        {
            return LoadResult.Failed(source, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Parsers throw their own exception types for malformed input; all of them mean "corrupt file".
            return LoadResult.Failed(source, $"not a valid {extension} file: {e.Message}");
        }

        string text = NormalizeLineEndings(extracted.Text);
        if (string.IsNullOrWhiteSpace(text))
            return LoadResult.Failed(source, "no text could be extracted");

        string title = extracted.Title ?? Path.GetFileNameWithoutExtension(source);
        return LoadResult.Success(new LoadedDocument(source, title, text, DocumentRules.ContentHash(text), file.Length));
    }

    /// <summary>One line ending everywhere, so the hash and the chunker's paragraph breaks ignore CRLF vs LF.</summary>
    private static string NormalizeLineEndings(string text) => text.ReplaceLineEndings("\n");
}
