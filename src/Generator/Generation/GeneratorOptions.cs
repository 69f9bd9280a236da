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

    /// <summary>RWKV-7 checkpoint (.pth or .safetensors), the name of a model fetched with <c>rag model pull</c>, or
    /// "random:SHAPE" (e.g. random:1.5b) for random weights of a published shape, to load-test serving on hardware
    /// without a checkpoint (the text is meaningless).</summary>
    public string ModelPath { get; set; } = "";

    public const string RandomPrefix = "random:";

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

    /// <summary>Most sequences decoded together in one batched step; later requests wait in the queue.</summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>Most requests waiting for a batch slot; when it is full, new requests are refused (HTTP 429).</summary>
    public int MaxQueuedRequests { get; set; } = 256;

    /// <summary>Prompt tokens prefilled per scheduler step, between two decode steps: bounds how long a newcomer's
    /// prompt stalls the running streams (a step's stall is about one decode plus this many prompt tokens). Unset:
    /// <see cref="CpuPrefillTokensPerStep"/> on the CPU, <see cref="CudaPrefillTokensPerStep"/> on CUDA.</summary>
    public int? PrefillTokensPerStep { get; set; }

    /// <summary>On the CPU a 2048-token slice of the tiny fixture model takes about 0.1 s. Wider slices cost less per
    /// token: 32 conversations on two cores got 1.9× the tokens/s of 512-token slices and a 5× lower median time to
    /// first token. A larger model on the CPU wants a smaller slice.</summary>
    public const int CpuPrefillTokensPerStep = 2048;

    /// <summary>On a GPU a slice pays a fixed cost of launches, so small slices multiply a long prompt's prefill time
    /// (H200, 1.5b, 123k tokens: 8.0 s in 512-token slices against 3.0 s whole); 8192 tokens stall other streams about
    /// 0.15 s at 1.5b.</summary>
    public const int CudaPrefillTokensPerStep = 8192;

    /// <summary>The prefill slice on <paramref name="device"/>: the setting, else the device's default.</summary>
    public int ResolvePrefillTokensPerStep(Device device) =>
        PrefillTokensPerStep ?? (device.type == TorchSharp.DeviceType.CUDA ? CudaPrefillTokensPerStep : CpuPrefillTokensPerStep);

    /// <summary>Bytes of finished conversations' states kept on the model's device to resume follow-ups; 0 = no cache.</summary>
    public long StateCacheBytes { get; set; } = 1L << 30;

    /// <summary>Bytes of states spilled to host memory when the device's share is full (CUDA only; on CPU the
    /// device is the host and <see cref="StateCacheBytes"/> is the whole budget).</summary>
    public long StateCacheHostBytes { get; set; } = 4L << 30;


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
        if (ModelPath?.StartsWith(RandomPrefix, StringComparison.Ordinal) == true && !Model.Rwkv7Config.Published.ContainsKey(ModelPath[RandomPrefix.Length..]))
            yield return $"{SectionName}:ModelPath '{ModelPath}' names no published shape; use {RandomPrefix}one of {string.Join(", ", Model.Rwkv7Config.Published.Keys)}.";
        if (!Dtypes.Contains(Dtype)) yield return $"{SectionName}:Dtype '{Dtype}' must be one of {string.Join(", ", Dtypes)}.";
        if (Kernels is not ("auto" or "on" or "off")) yield return $"{SectionName}:Kernels '{Kernels}' must be \"auto\", \"on\" or \"off\".";
        if (ChunkLength is < 1 or > MaxChunkLength) yield return $"{SectionName}:ChunkLength {ChunkLength} must be between 1 and {MaxChunkLength}.";
        if (SegmentLength < 1) yield return $"{SectionName}:SegmentLength {SegmentLength} must be >= 1.";
        if (MaxTokens < 1) yield return $"{SectionName}:MaxTokens {MaxTokens} must be >= 1.";
        if (MaxPromptTokens < 1) yield return $"{SectionName}:MaxPromptTokens {MaxPromptTokens} must be >= 1.";
        if (MaxBatchSize < 1) yield return $"{SectionName}:MaxBatchSize {MaxBatchSize} must be >= 1.";
        if (MaxQueuedRequests < 0) yield return $"{SectionName}:MaxQueuedRequests {MaxQueuedRequests} must be >= 0.";
        if (PrefillTokensPerStep is < 1) yield return $"{SectionName}:PrefillTokensPerStep {PrefillTokensPerStep} must be >= 1.";
        if (StateCacheBytes < 0) yield return $"{SectionName}:StateCacheBytes {StateCacheBytes} must be >= 0 (0 = no cache).";
        if (StateCacheHostBytes < 0) yield return $"{SectionName}:StateCacheHostBytes {StateCacheHostBytes} must be >= 0.";
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
