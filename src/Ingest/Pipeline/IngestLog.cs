using Microsoft.Extensions.Logging;

namespace Rag.Ingest.Pipeline;

internal static partial class IngestLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Ingesting {FileCount} files")]
    public static partial void Starting(ILogger logger, int fileCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Outcome} {Source}: {ChunkCount} chunks")]
    public static partial void Stored(ILogger logger, string outcome, string source, int chunkCount);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Unchanged {Source}")]
    public static partial void Unchanged(ILogger logger, string source);

    [LoggerMessage(Level = LogLevel.Information, Message = "Skipped {Path}: no loader for this file type")]
    public static partial void SkippedUnknown(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failed {Path}: {Reason}")]
    public static partial void Failed(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Ingested in {Elapsed}: {Added} added, {Replaced} replaced, {Unchanged} unchanged, {Skipped} skipped, {Failed} failed")]
    public static partial void Finished(ILogger logger, TimeSpan elapsed, int added, int replaced, int unchanged, int skipped, int failed);
}
