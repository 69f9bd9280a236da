namespace Rag.Ingest.Pipeline;

/// <summary>Reported after each file.</summary>
/// <param name="Chunks">Chunks written so far.</param>
/// <param name="Bytes">Bytes of the files loaded so far.</param>
public sealed record IngestProgress(int FilesDone, int FilesTotal, int Chunks, long Bytes, TimeSpan Elapsed, string CurrentFile)
{
    public double FilesPerSecond => Rate(FilesDone);

    public double BytesPerSecond => Rate(Bytes);

    private double Rate(double amount) => Elapsed > TimeSpan.Zero ? amount / Elapsed.TotalSeconds : 0;
}
