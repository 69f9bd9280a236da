using System.Text.RegularExpressions;
using Rag.Generator.Generation;
using Rag.Generator.Model;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Cli;

/// <summary>
/// --device, --dtype, --chunk-length, --kernels and --segment-length of the model commands, checked before a checkpoint is
/// read or a model built, each error naming the flag (the loader's own messages name its properties instead).
/// </summary>
internal static partial class ModelFlags
{
    private static readonly string[] KernelModes = ["auto", "on", "off"];

    public static ModelLoadOptions LoadOptions(string device, string dtype, int chunkLength, string kernels, int? segmentLength = null)
    {
        if (!DeviceName().IsMatch(device))
            throw new RagInputException($"--device '{device}' is not supported; use cpu, cuda or cuda:N.");
        if (!GeneratorOptions.Dtypes.Contains(dtype))
            throw new RagInputException($"--dtype '{dtype}' is not supported; use one of {string.Join(", ", GeneratorOptions.Dtypes)}.");
        if (chunkLength < 1 || chunkLength > ModelLoadOptions.MaxChunkLength)
            throw new RagInputException($"--chunk-length must be between 1 and {ModelLoadOptions.MaxChunkLength}; got {chunkLength}.");
        if (!KernelModes.Contains(kernels))
            throw new RagInputException($"--kernels '{kernels}' is not supported; use {string.Join(", ", KernelModes)}.");
        if (segmentLength < 1)
            throw new RagInputException($"--segment-length must be at least 1; got {segmentLength}.");
        var options = new ModelLoadOptions { Device = device, Dtype = dtype, ChunkLength = chunkLength, Kernels = kernels };
        if (segmentLength is { } segment) options.SegmentLength = segment;
        return options;
    }

    /// <summary>An input file the command reads after expensive work (a model load) must exist before it starts.</summary>
    public static string ExistingFile(string path, string flag) =>
        File.Exists(path) ? path : throw new RagInputException($"{flag} '{path}' does not exist.");

    [GeneratedRegex(@"^(cpu|cuda(:\d+)?)$")]
    private static partial Regex DeviceName();
}
