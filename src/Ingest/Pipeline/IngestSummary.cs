using Rag.Ingest.Loading;

namespace Rag.Ingest.Pipeline;

/// <summary>What one ingestion run did with every path, by outcome.</summary>
/// <param name="Unchanged">Sources already stored with the same content hash (not re-chunked or re-embedded).</param>
/// <param name="SkippedUnknown">Files whose extension no loader handles.</param>
/// <param name="SkippedEmpty">Empty files, each with the reason it was skipped.</param>
/// <param name="Failed">Files and paths that could not be ingested, each with its reason; nothing was stored for them.</param>
public sealed record IngestSummary(
    IReadOnlyList<string> Added,
    IReadOnlyList<string> Unchanged,
    IReadOnlyList<string> Replaced,
    IReadOnlyList<string> SkippedUnknown,
    IReadOnlyList<IngestFailure> SkippedEmpty,
    IReadOnlyList<IngestFailure> Failed,
    int Chunks,
    long Bytes,
    TimeSpan Elapsed);
