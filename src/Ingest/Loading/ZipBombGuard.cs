using System.IO.Compression;

namespace Rag.Ingest.Loading;

/// <summary>
/// Checks the sizes a zip archive declares in its central directory before anything is decompressed, so a
/// small file cannot expand into gigabytes inside the parser. (.NET stops inflating an entry at its declared
/// size, so the declared sizes are a real bound.)
/// </summary>
internal sealed class ZipBombGuard(long maxDecompressedBytes, double maxCompressionRatio)
{
    public void Check(byte[] content)
    {
        long compressed = 0, uncompressed = 0;
        using (ZipArchive archive = OpenZip(content))
        {
            foreach (ZipArchiveEntry entry in archive.Entries)
            {
                compressed += entry.CompressedLength;
                uncompressed += entry.Length;
            }
        }

        if (uncompressed > maxDecompressedBytes)
            throw new InvalidDocumentException(
                $"archive expands to {uncompressed} bytes, over the limit {IngestOptions.SectionName}:MaxDecompressedBytes = {maxDecompressedBytes}");

        double ratio = (double)uncompressed / Math.Max(compressed, 1);
        if (ratio > maxCompressionRatio)
            throw new InvalidDocumentException(
                $"archive compression ratio {ratio:F0} is over the limit {IngestOptions.SectionName}:MaxCompressionRatio = {maxCompressionRatio} (zip bomb?)");
    }

    private static ZipArchive OpenZip(byte[] content)
    {
        try
        {
            return new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDocumentException($"not a valid zip archive: {e.Message}", e);
        }
    }
}
