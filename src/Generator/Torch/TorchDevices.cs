using static TorchSharp.torch;

namespace Rag.Generator.Runtime;

/// <summary>Device names from settings ("cpu", "cuda", "cuda:N") to TorchSharp devices, with errors that name the setting.</summary>
public static class TorchDevices
{
    /// <param name="setting">The setting the name came from, e.g. "Generator:Device", for the error message.</param>
    public static Device Parse(string? name, string setting)
    {
        var normalized = (name ?? "").Trim().ToLowerInvariant();
        if (normalized == "cpu") return CPU;
        if (normalized == "cuda" || normalized.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new InvalidOperationException(
                    $"{setting} is '{name}' but CUDA is not available (torch.cuda.is_available() is false: no visible GPU, " +
                    "or the build uses the CPU libtorch: build with -p:TorchBackend=cuda). Use \"cpu\".");
            return device(normalized);
        }
        throw new ArgumentException($"{setting} '{name}' is not supported; use \"cpu\", \"cuda\" or \"cuda:N\".");
    }
}
