namespace Rag.Ingest.Loading;

/// <param name="Source">Full, normalised path of the file; the document's key in the store.</param>
/// <param name="ContentHash">
/// Lower-case hex SHA-256 of the UTF-8 bytes of <paramref name="Text"/> (the extracted text, not the file bytes):
/// a re-saved file whose text is unchanged (new DOCX/PDF metadata, other line endings) is not re-embedded.
/// </param>
/// <param name="ByteCount">Size of the file on disk.</param>
public sealed record LoadedDocument(string Source, string Title, string Text, string ContentHash, long ByteCount);

/// <summary>A file that could not be ingested and why; reported, never thrown, so a batch goes on.</summary>
/// <param name="Retryable">
/// The file is fine but the store or the embedding service failed (down, timed out): the same file may succeed
/// later, so a queued job is retried rather than finished as Failed.
/// </param>
public sealed record IngestFailure(string Path, string Reason, bool Retryable = false);

/// <summary>Either a loaded document or the failure that prevented it (or, for an empty file, why it was skipped).</summary>
public sealed record LoadResult
{
    private LoadResult(LoadedDocument? document, IngestFailure? failure) => (Document, Failure) = (document, failure);

    public LoadedDocument? Document { get; }

    public IngestFailure? Failure { get; }

    /// <summary>The file is empty: nothing to index, which is no fault of the batch, so it is skipped rather than failed.</summary>
    public bool IsEmpty { get; private init; }

    public static LoadResult Success(LoadedDocument document) => new(document, null);

    public static LoadResult Failed(string path, string reason) => new(null, new IngestFailure(path, reason));

    public static LoadResult Empty(string path) => new(null, new IngestFailure(path, "file is empty")) { IsEmpty = true };
}
