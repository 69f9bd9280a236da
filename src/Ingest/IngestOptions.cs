namespace Rag.Ingest;

/// <summary>Settings of the "Ingest" configuration section.</summary>
public sealed class IngestOptions
{
    public const string SectionName = "Ingest";

    /// <summary>Files larger than this are rejected from their length, before any byte is read.</summary>
    public long MaxFileBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Target chunk size; no chunk has more tokens than this.</summary>
    public int ChunkTokens { get; set; } = 256;

    /// <summary>Tokens shared by consecutive chunks so a passage cut at a boundary still appears whole once.</summary>
    public int ChunkOverlapTokens { get; set; } = 32;

    /// <summary>Tiktoken encoding used to count tokens while chunking.</summary>
    public string Encoding { get; set; } = "o200k_base";

    /// <summary>Largest total uncompressed size a DOCX (zip) may declare.</summary>
    public long MaxDecompressedBytes { get; set; } = 200L * 1024 * 1024;

    /// <summary>Largest uncompressed/compressed ratio a DOCX (zip) may declare; real documents stay far below it.</summary>
    public double MaxCompressionRatio { get; set; } = 100;

    /// <summary>Chunks sent to the embedding generator per call.</summary>
    public int EmbeddingBatchSize { get; set; } = 32;

    /// <summary>
    /// Folders ingestion may read: every path, and every file and folder reached from it, must resolve (symbolic
    /// links followed) to a place inside one of them. Empty means no restriction, as for the operator's own CLI paths.
    /// </summary>
    public IReadOnlyList<string> Roots { get; set; } = [];
}
