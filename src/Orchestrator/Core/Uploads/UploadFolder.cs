using System.Security.Cryptography;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Uploads;

/// <summary>
/// Uploaded files under &lt;Store:DataDirectory&gt;/uploads, one folder per content (named by its SHA-256): the same
/// bytes uploaded again, under any name of the same type, resolve to the file already saved, hence to the same document
/// source, which ingestion then finds unchanged. Deleting a document that came from an upload deletes the file too.
/// </summary>
public sealed class UploadFolder(string root, IDocumentStore store)
{
    private const string IncomingFolder = ".incoming";

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Saves one file (or finds it saved); returns its path and whether this call created it.</summary>
    public async Task<(string Path, bool Created)> SaveAsync(Stream content, string fileName, CancellationToken cancellationToken)
    {
        var incoming = Directory.CreateDirectory(Path.Combine(Root, IncomingFolder)).FullName;
        var temporary = Path.Combine(incoming, Guid.NewGuid().ToString("N"));
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var file = File.Create(temporary))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }

            var folder = Directory.CreateDirectory(Path.Combine(Root, Convert.ToHexStringLower(hash.GetHashAndReset())));
            if (SavedAs(folder, fileName) is { } existing)
                return (existing, false);
            var path = Path.Combine(folder.FullName, fileName);
            try
            {
                File.Move(temporary, path);
                return (path, true);
            }
            catch (IOException) when (SavedAs(folder, fileName) is { } raced)
            {
                return (raced, false); // the same content arrived concurrently and was saved first
            }
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// The file already saved with this content and the same extension: the extension picks the loader, so the same
    /// bytes as .txt and as .md are two documents, while a.txt and b.txt with the same bytes are one.
    /// </summary>
    private static string? SavedAs(DirectoryInfo folder, string fileName) =>
        folder.EnumerateFiles().FirstOrDefault(f => string.Equals(f.Extension, Path.GetExtension(fileName), StringComparison.OrdinalIgnoreCase))?.FullName;

    /// <summary>Removes a file this folder saved (and its content folder), e.g. when its upload is not enqueued.</summary>
    public void Remove(string path)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full);
        if (folder is null || !string.Equals(Path.GetDirectoryName(folder), Root, StringComparison.Ordinal))
            return; // not an upload: files ingested from elsewhere are the user's own
        File.Delete(full);
        if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
            Directory.Delete(folder);
    }

    /// <summary>Deletes a document and, when it came from an upload, the uploaded file; false when there was no such document.</summary>
    public async Task<bool> DeleteDocumentAsync(string documentId, CancellationToken cancellationToken)
    {
        if (await store.GetDocumentAsync(documentId, cancellationToken) is not { } document
            || !await store.DeleteDocumentAsync(documentId, cancellationToken))
            return false;
        Remove(document.Source);
        return true;
    }
}
