using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Rag.Generator.Generation;

/// <summary>Configuration section "Generator": which model to load and how to run it.</summary>
public sealed class GeneratorOptions
{
    public const string SectionName = "Generator";

    /// <summary>RWKV-7 checkpoint (.pth or .safetensors); or "random:SHAPE" (e.g. random:1.5b) for random weights of a
    /// published shape, to load-test serving on hardware without a checkpoint (the text is meaningless).</summary>
    public string ModelPath { get; set; } = "";

    public const string RandomPrefix = "random:";

    /// <summary>RWKV World vocabulary file (rwkv_vocab_v20230424.txt).</summary>
    public string VocabPath { get; set; } = "";

    /// <summary>"cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Weight and activation type: "fp32", "fp16" or "bf16".</summary>
    public string Dtype { get; set; } = "fp32";

    /// <summary>Prompt tokens per prefill forward call (bounds activation memory).</summary>
    public int ChunkLength { get; set; } = 32;

    /// <summary>Tokens per segment of the model's chunked parallel WKV scan.</summary>
    public int SegmentLength { get; set; } = 4096;

    /// <summary>"auto" (Rag's CUDA kernels on CUDA when they load), "on" (fail with the reason if not) or "off".</summary>
    public string Kernels { get; set; } = "auto";

    /// <summary>NVRTC library file or folder, when it is not where TorchSharp-cuda-linux or PyTorch put it.</summary>
    public string NvrtcPath { get; set; } = "";

    /// <summary>Compiled kernel cache; empty = $XDG_CACHE_HOME/rag/kernels or ~/.cache/rag/kernels.</summary>
    public string KernelCacheDirectory { get; set; } = "";

    /// <summary>Completion token limit when a request sets none.</summary>
    public int MaxTokens { get; set; } = 512;

    /// <summary>Longest prompt accepted, in tokens. RWKV has no hard context limit, but models are trained on
    /// bounded contexts and prefill time grows with the prompt.</summary>
    public int MaxPromptTokens { get; set; } = 262_144;

    /// <summary>Sampling temperature when a request sets none (RWKV chat demos use 1.0).</summary>
    public double Temperature { get; set; } = 1.0;

    /// <summary>Top-p when a request sets none (RWKV chat demos use 0.3).</summary>
    public double TopP { get; set; } = 0.3;

    /// <summary>Most sequences decoded together in one batched step; later requests wait in the queue.</summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>Most requests waiting for a batch slot; when it is full, new requests are refused (HTTP 429).</summary>
    public int MaxQueuedRequests { get; set; } = 256;

    /// <summary>Prompt tokens prefilled per scheduler step, between two decode steps: bounds how long a newcomer's
    /// prompt stalls the running streams (a step's stall is about one decode plus this many prompt tokens).</summary>
    public int PrefillTokensPerStep { get; set; } = 512;

    /// <summary>Bytes of finished conversations' states kept on the model's device to resume follow-ups; 0 = no cache.</summary>
    public long StateCacheBytes { get; set; } = 1L << 30;

    /// <summary>Bytes of states spilled to host memory when the device's share is full (CUDA only; on CPU the
    /// device is the host and <see cref="StateCacheBytes"/> is the whole budget).</summary>
    public long StateCacheHostBytes { get; set; } = 4L << 30;

    public static IReadOnlyList<string> Dtypes { get; } = ["fp32", "fp16", "bf16"];

    /// <summary>Every broken rule, each naming its key and value; empty when valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(ModelPath)) yield return $"{SectionName}:ModelPath is required.";
        else if (ModelPath.StartsWith(RandomPrefix, StringComparison.Ordinal) && !Model.Rwkv7Config.Published.ContainsKey(ModelPath[RandomPrefix.Length..]))
            yield return $"{SectionName}:ModelPath '{ModelPath}' names no published shape; use {RandomPrefix}one of {string.Join(", ", Model.Rwkv7Config.Published.Keys)}.";
        if (string.IsNullOrWhiteSpace(VocabPath)) yield return $"{SectionName}:VocabPath is required.";
        if (!Regex.IsMatch(Device ?? "", @"^(cpu|cuda(:\d+)?)$"))
            yield return $"{SectionName}:Device '{Device}' must be 'cpu', 'cuda' or 'cuda:N'.";
        if (!Dtypes.Contains(Dtype)) yield return $"{SectionName}:Dtype '{Dtype}' must be one of {string.Join(", ", Dtypes)}.";
        if (Kernels is not ("auto" or "on" or "off")) yield return $"{SectionName}:Kernels '{Kernels}' must be 'auto', 'on' or 'off'.";
        if (ChunkLength < 1) yield return $"{SectionName}:ChunkLength {ChunkLength} must be >= 1.";
        if (SegmentLength < 1) yield return $"{SectionName}:SegmentLength {SegmentLength} must be >= 1.";
        if (MaxTokens < 1) yield return $"{SectionName}:MaxTokens {MaxTokens} must be >= 1.";
        if (MaxPromptTokens < 1) yield return $"{SectionName}:MaxPromptTokens {MaxPromptTokens} must be >= 1.";
        if (MaxBatchSize < 1) yield return $"{SectionName}:MaxBatchSize {MaxBatchSize} must be >= 1.";
        if (MaxQueuedRequests < 0) yield return $"{SectionName}:MaxQueuedRequests {MaxQueuedRequests} must be >= 0.";
        if (PrefillTokensPerStep < 1) yield return $"{SectionName}:PrefillTokensPerStep {PrefillTokensPerStep} must be >= 1.";
        if (StateCacheBytes < 0) yield return $"{SectionName}:StateCacheBytes {StateCacheBytes} must be >= 0 (0 = no cache).";
        if (StateCacheHostBytes < 0) yield return $"{SectionName}:StateCacheHostBytes {StateCacheHostBytes} must be >= 0.";
        if (!(double.IsFinite(Temperature) && Temperature >= 0)) yield return $"{SectionName}:Temperature {Temperature} must be a finite number >= 0.";
        if (!(TopP > 0 && TopP <= 1)) yield return $"{SectionName}:TopP {TopP} must be in (0, 1].";
    }
}

/// <summary>Validates <see cref="GeneratorOptions"/> for the Options pattern (e.g. with ValidateOnStart).</summary>
public sealed class GeneratorOptionsValidator : IValidateOptions<GeneratorOptions>
{
    public ValidateOptionsResult Validate(string? name, GeneratorOptions options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
