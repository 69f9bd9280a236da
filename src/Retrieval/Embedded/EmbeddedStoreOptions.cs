namespace Rag.Retrieval.Embedded;

/// <summary>Options of the embedded SQLite store (configuration section "Store").</summary>
public sealed class EmbeddedStoreOptions
{
    public const string SectionName = "Store";

    /// <summary>Folder holding the database file; created when missing.</summary>
    public string DataDirectory { get; set; } = "data";

    public string FileName { get; set; } = "rag.db";

    /// <summary>The k of reciprocal rank fusion: score = sum 1 / (RrfK + rank).</summary>
    public double RrfK { get; set; } = 60;

    /// <summary>Each ranker of a hybrid query is asked for CandidateMultiplier × K hits before fusion.</summary>
    public int CandidateMultiplier { get; set; } = 2;

    /// <summary>"cpu" scans vectors with TensorPrimitives; "cuda"/"cuda:N" keeps a copy on the GPU and ranks by one matmul.</summary>
    public string Device { get; set; } = "cpu";

    public string DatabasePath => Path.GetFullPath(Path.Combine(DataDirectory, FileName));

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
            throw new ArgumentException($"{SectionName}:{nameof(DataDirectory)} must not be empty.");
        if (string.IsNullOrWhiteSpace(FileName))
            throw new ArgumentException($"{SectionName}:{nameof(FileName)} must not be empty.");
        if (!(RrfK > 0))
            throw new ArgumentException($"{SectionName}:{nameof(RrfK)} must be > 0 (was {RrfK}).");
        if (CandidateMultiplier < 1)
            throw new ArgumentException($"{SectionName}:{nameof(CandidateMultiplier)} must be >= 1 (was {CandidateMultiplier}).");
    }
}
