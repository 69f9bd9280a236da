namespace Rag.Generator.Checkpoints;

/// <summary>A checkpoint file that cannot be used; the message names the file and the problem.</summary>
public sealed class CheckpointFormatException(string path, string problem, Exception? inner = null)
    : Exception($"{path}: {problem}", inner)
{
    public string Path { get; } = path;
}
