using Microsoft.Extensions.Logging;

namespace Rag.Ingest.Pipeline;

internal static partial class IngestLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Ingesting {FileCount} files")]
    public static partial void Starting(ILogger logger, int fileCount);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Outcome} {Source}: {ChunkCount} chunks")]
    public static partial void Stored(ILogger logger, string outcome, string source, int chunkCount);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Unchanged {Source}")]
    public static partial void Unchanged(ILogger logger, string source);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Skipped {Path}: no loader for this file type")]
    public static partial void SkippedUnknown(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Skipped {Path}: {Reason}")]
    public static partial void Skipped(ILogger logger, string path, string reason);

    // Debug: the caller reports failures once, in its summary (CLI) or in the job's result (workers).
    [LoggerMessage(Level = LogLevel.Debug, Message = "Failed {Path}: {Reason}")]
    public static partial void Failed(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "Ingested in {Elapsed}: {Added} added, {Replaced} replaced, {Unchanged} unchanged, {Skipped} skipped, {Failed} failed")]
    public static partial void Finished(ILogger logger, TimeSpan elapsed, int added, int replaced, int unchanged, int skipped, int failed);
}
