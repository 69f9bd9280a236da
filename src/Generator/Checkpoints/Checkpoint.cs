using static TorchSharp.torch;

namespace Rag.Generator.Checkpoints;

/// <summary>Loads a checkpoint by its extension: <c>.pth</c> (torch.save zip) or <c>.safetensors</c>.</summary>
public static class Checkpoint
{
    public static IReadOnlyList<string> SupportedExtensions { get; } = [".pth", ".safetensors"];

    /// <summary>Every tensor of <paramref name="path"/>, on the CPU, in its stored dtype.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        if (!File.Exists(path))
            throw new CheckpointFormatException(path, "does not exist");
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".pth" => PthCheckpoint.Load(path),
            ".safetensors" => SafeTensors.Load(path),
            var ext => throw new CheckpointFormatException(path,
                $"has the extension '{ext}'; supported checkpoint formats are {string.Join(" and ", SupportedExtensions)}"),
        };
    }
}
