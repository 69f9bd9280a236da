using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Rag.Generator.Kernels;
using static TorchSharp.torch;

namespace Rag.Generator.Generation;

/// <summary>
/// Configuration section "Generator": which model to load, where and how to run it, and the sampling defaults.
/// The one options type of the generator: the CLI, the benchmarks and the tests fill in the same settings.
/// </summary>
public sealed partial class GeneratorOptions
{
    public const string SectionName = "Generator";

    /// <summary>
    /// Within a chunk the decay products are factorised as exp(g_t)·exp(-g_s) with g the log-decay sum from the
    /// chunk start; each step's log-decay is at least -e^-0.5 ≈ -0.61, so 64 steps keep both factors within
    /// e^±39, far inside fp32 range.
    /// </summary>
    public const int MaxChunkLength = 64;

    /// <summary>RWKV-7 checkpoint (.pth or .safetensors), or the name of a model fetched with <c>rag model pull</c>.</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>RWKV World vocabulary file; empty = the one <c>rag model pull</c> put in <see cref="ModelsDirectory"/>.</summary>
    public string VocabPath { get; set; } = "";

    /// <summary>Where <c>rag model pull</c> puts models and where <see cref="ModelPath"/> names are looked up.</summary>
    public string ModelsDirectory { get; set; } = "models";

    /// <summary>Hub <c>rag model pull</c> downloads from (its URL layout: {endpoint}/{repository}/resolve/main/{file}).</summary>
    public string HubEndpoint { get; set; } = "https://huggingface.co/";

    /// <summary>"auto" (CUDA when present, else the CPU), "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Weight and activation type: "auto" (bf16 on CUDA, fp32 on the CPU), "fp32", "bf16" or "fp16". The WKV state and decay math stay fp32.</summary>
    public string Dtype { get; set; } = "auto";

    /// <summary>
    /// Tokens per chunk of the model's chunked parallel WKV scan, 1 to <see cref="MaxChunkLength"/>. 64 prefilled
    /// 1.6× faster than 32 on the GPU (BENCHMARKS.md).
    /// </summary>
    public int ChunkLength { get; set; } = MaxChunkLength;

    /// <summary>
    /// Prompt tokens per forward call: longer prompts are prefilled segment by segment with the state carried over,
    /// so activation memory stops growing with the prompt, and other requests get the model between segments.
    /// </summary>
    public int SegmentLength { get; set; } = 4096;

    /// <summary>"auto" (Rag's CUDA kernels on CUDA when they load), "on" (fail with the reason if not) or "off".</summary>
    public string Kernels { get; set; } = "auto";

    /// <summary>NVRTC library file or folder, when it is not where TorchSharp-cuda-linux or PyTorch put it.</summary>
    public string NvrtcPath { get; set; } = "";

    /// <summary>Compiled kernel cache; empty = $XDG_CACHE_HOME/rag/kernels or ~/.cache/rag/kernels.</summary>
    public string KernelCacheDirectory { get; set; } = "";

    /// <summary>Completion token limit when a request sets none, and the most a request may ask for.</summary>
    public int MaxTokens { get; set; } = 512;

    /// <summary>Longest prompt accepted, in tokens. RWKV has no hard context limit, but models are trained on
    /// bounded contexts and prefill time grows with the prompt.</summary>
    public int MaxPromptTokens { get; set; } = 262_144;

    // Sampling defaults are those of RWKV's own chat server demo, BlinkDL/ChatRWKV API_DEMO_CHAT.py
    // (GEN_TEMP = 1.0, GEN_TOP_P = 0.3, GEN_alpha_presence = 0.5, GEN_alpha_frequency = 0.5, GEN_penalty_decay = 0.996).

    /// <summary>Sampling temperature when a request sets none.</summary>
    public double Temperature { get; set; } = 1.0;

    /// <summary>Top-p when a request sets none.</summary>
    public double TopP { get; set; } = 0.3;

    /// <summary>Presence penalty when a request sets none.</summary>
    public double PresencePenalty { get; set; } = 0.5;

    /// <summary>Frequency penalty when a request sets none.</summary>
    public double FrequencyPenalty { get; set; } = 0.5;

    /// <summary>Every generated token multiplies the earlier tokens' penalty counts by this, so old repeats weigh less.</summary>
    public double PenaltyDecay { get; set; } = 0.996;

    /// <summary>
    /// "off": the G1 no-think chat prompt (the answer turn starts at once); "on": the answer turn opens a
    /// <c>&lt;think&gt;</c> block, and the model's reasoning is returned apart from the answer.
    /// </summary>
    public string Thinking { get; set; } = "off";

    public static IReadOnlyList<string> Dtypes { get; } = ["auto", "fp32", "fp16", "bf16"];

    public bool ThinkingEnabled => Thinking == "on";

    /// <summary>Every broken rule, each naming its key and value; empty when valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (!DeviceName().IsMatch(Device ?? ""))
            yield return $"{SectionName}:Device '{Device}' must be 'auto', 'cpu', 'cuda' or 'cuda:N'.";
        if (!Dtypes.Contains(Dtype)) yield return $"{SectionName}:Dtype '{Dtype}' must be one of {string.Join(", ", Dtypes)}.";
        if (Kernels is not ("auto" or "on" or "off")) yield return $"{SectionName}:Kernels '{Kernels}' must be \"auto\", \"on\" or \"off\".";
        if (ChunkLength is < 1 or > MaxChunkLength) yield return $"{SectionName}:ChunkLength {ChunkLength} must be between 1 and {MaxChunkLength}.";
        if (SegmentLength < 1) yield return $"{SectionName}:SegmentLength {SegmentLength} must be >= 1.";
        if (MaxTokens < 1) yield return $"{SectionName}:MaxTokens {MaxTokens} must be >= 1.";
        if (MaxPromptTokens < 1) yield return $"{SectionName}:MaxPromptTokens {MaxPromptTokens} must be >= 1.";
        if (!(double.IsFinite(Temperature) && Temperature >= 0)) yield return $"{SectionName}:Temperature {Temperature} must be a finite number >= 0.";
        if (!(TopP > 0 && TopP <= 1)) yield return $"{SectionName}:TopP {TopP} must be in (0, 1].";
        if (PresencePenalty is not (>= -2 and <= 2)) yield return $"{SectionName}:PresencePenalty {PresencePenalty} must be in [-2, 2].";
        if (FrequencyPenalty is not (>= -2 and <= 2)) yield return $"{SectionName}:FrequencyPenalty {FrequencyPenalty} must be in [-2, 2].";
        if (!(PenaltyDecay > 0 && PenaltyDecay <= 1)) yield return $"{SectionName}:PenaltyDecay {PenaltyDecay} must be in (0, 1].";
        if (!Uri.TryCreate(HubEndpoint, UriKind.Absolute, out var hub) || hub.Scheme is not ("http" or "https"))
            yield return $"{SectionName}:HubEndpoint '{HubEndpoint}' must be an http(s) URL.";
        if (Thinking is not ("off" or "on")) yield return $"{SectionName}:Thinking '{Thinking}' must be 'off' or 'on'.";
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every broken rule.</summary>
    public void Validate()
    {
        var problems = Problems().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems));
    }

    /// <summary>"auto" is CUDA when torch sees a GPU, else the CPU.</summary>
    public Device ResolveDevice() => Device.Trim().ToLowerInvariant() == "auto"
        ? (cuda.is_available() ? CUDA : CPU)
        : Runtime.TorchDevices.Parse(Device, $"{SectionName}:Device");

    /// <summary>"auto" is bf16 on CUDA (half the memory, tensor cores) and fp32 on the CPU (exact, and CPU bf16 matmuls are slow).</summary>
    public ScalarType ResolveDtype() => Dtype.Trim().ToLowerInvariant() == "auto"
        ? (ResolveDevice().type == TorchSharp.DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32)
        : ParseDtype(Dtype);

    public KernelsMode ResolveKernels() => Kernels.Trim().ToLowerInvariant() switch
    {
        "auto" => KernelsMode.Auto,
        "on" => KernelsMode.On,
        "off" => KernelsMode.Off,
        _ => throw new ArgumentException($"{SectionName}:Kernels '{Kernels}' is not supported; use \"auto\", \"on\" or \"off\".", nameof(Kernels)),
    };

    public static ScalarType ParseDtype(string dtype) => dtype.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" or "float" => ScalarType.Float32,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        "fp16" or "float16" or "half" => ScalarType.Float16,
        _ => throw new ArgumentException($"Model dtype '{dtype}' is not supported; use \"fp32\", \"bf16\" or \"fp16\".", nameof(Dtype)),
    };

    [GeneratedRegex(@"^(auto|cpu|cuda(:\d+)?)$")]
    private static partial Regex DeviceName();
}

/// <summary>Validates <see cref="GeneratorOptions"/> for the Options pattern (registered with ValidateOnStart).</summary>
public sealed class GeneratorOptionsValidator : IValidateOptions<GeneratorOptions>
{
    public ValidateOptionsResult Validate(string? name, GeneratorOptions options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
