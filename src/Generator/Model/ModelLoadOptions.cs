using Rag.Generator.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Model;

/// <summary>How to place and run a loaded model (the CLI and the Generator settings fill it in).</summary>
public sealed class ModelLoadOptions
{
    /// <summary>"cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Weight and activation dtype: "fp32", "bf16" or "fp16". The WKV state and decay math stay fp32.</summary>
    public string Dtype { get; set; } = "fp32";

    /// <summary>Tokens per chunk of the parallel prefill, 1 to <see cref="MaxChunkLength"/>.</summary>
    public int ChunkLength { get; set; } = 32;

    /// <summary>Prompts longer than this are prefilled segment by segment, so peak memory stops growing with the prompt.</summary>
    public int SegmentLength { get; set; } = 2048;

    /// <summary>"auto" (Rag's CUDA kernels when they load), "on" (fail with the reason if they cannot) or "off".</summary>
    public string Kernels { get; set; } = "auto";

    /// <summary>Where NVRTC is (a file or a folder), when it is not found in the usual places; see README.</summary>
    public string? NvrtcPath { get; set; }

    /// <summary>Where compiled kernels are kept; empty = $XDG_CACHE_HOME/rag/kernels or ~/.cache/rag/kernels.</summary>
    public string? KernelCacheDirectory { get; set; }

    /// <summary>
    /// Within a chunk the decay products are factorised as exp(g_t)·exp(-g_s) with g the log-decay sum from the
    /// chunk start; each step's log-decay is at least -e^-0.5 ≈ -0.61, so 64 steps keep both factors within
    /// e^±39, far inside fp32 range.
    /// </summary>
    public const int MaxChunkLength = 64;

    public Device ResolveDevice() => Runtime.TorchDevices.Parse(Device, "Model device");

    public ScalarType ResolveDtype() => ParseDtype(Dtype);

    public KernelsMode ResolveKernels() => Kernels.Trim().ToLowerInvariant() switch
    {
        "auto" => KernelsMode.Auto,
        "on" => KernelsMode.On,
        "off" => KernelsMode.Off,
        _ => throw new ArgumentException($"Generator:Kernels '{Kernels}' is not supported; use \"auto\", \"on\" or \"off\".", nameof(Kernels)),
    };

    public static ScalarType ParseDtype(string dtype) => dtype.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" or "float" => ScalarType.Float32,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        "fp16" or "float16" or "half" => ScalarType.Float16,
        _ => throw new ArgumentException($"Model dtype '{dtype}' is not supported; use \"fp32\", \"bf16\" or \"fp16\".", nameof(Dtype)),
    };

    public void Validate()
    {
        if (ChunkLength < 1 || ChunkLength > MaxChunkLength)
            throw new ArgumentOutOfRangeException(nameof(ChunkLength), ChunkLength, $"Model chunk length must be between 1 and {MaxChunkLength}.");
        ResolveKernels();
        if (SegmentLength < 1)
            throw new ArgumentOutOfRangeException(nameof(SegmentLength), SegmentLength, "Model segment length must be at least 1 token.");
    }
}
