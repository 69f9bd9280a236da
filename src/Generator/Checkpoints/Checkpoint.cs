using static TorchSharp.torch;

namespace Rag.Generator.Checkpoints;

/// <summary>Opens a checkpoint by its extension: <c>.pth</c> (torch.save zip) or <c>.safetensors</c>.</summary>
public static class Checkpoint
{
    public static IReadOnlyList<string> SupportedExtensions { get; } = [".pth", ".safetensors"];

    /// <summary>An open reader over <paramref name="path"/>: the index is read now, tensor data on request.</summary>
    public static CheckpointReader Open(string path)
    {
        if (!File.Exists(path))
            throw new CheckpointFormatException(path, "does not exist");
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".pth" => PthCheckpoint.Open(path),
            ".safetensors" => SafeTensors.Open(path),
            var ext => throw new CheckpointFormatException(path,
                $"has the extension '{ext}'; supported checkpoint formats are {string.Join(" and ", SupportedExtensions)}"),
        };
    }

    /// <summary>Every tensor of <paramref name="path"/>, on the CPU, in its stored dtype.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        using var reader = Open(path);
        return reader.ReadAll();
    }
}
