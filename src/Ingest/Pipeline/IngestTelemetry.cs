using System.Diagnostics;

namespace Rag.Ingest.Pipeline;

public static class IngestTelemetry
{
    public const string ActivitySourceName = "Rag.Ingest";

    /// <summary>Starts one "ingest.file" activity per file.</summary>
    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}
