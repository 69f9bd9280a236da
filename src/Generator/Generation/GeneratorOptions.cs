using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Rag.Generator.Generation;

/// <summary>Configuration section "Generator": which model to load and how to run it.</summary>
public sealed class GeneratorOptions
{
    public const string SectionName = "Generator";

    /// <summary>RWKV-7 checkpoint (.pth or .safetensors).</summary>
    public string ModelPath { get; set; } = "";

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

    public static IReadOnlyList<string> Dtypes { get; } = ["fp32", "fp16", "bf16"];

    /// <summary>Every broken rule, each naming its key and value; empty when valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(ModelPath)) yield return $"{SectionName}:ModelPath is required.";
        if (string.IsNullOrWhiteSpace(VocabPath)) yield return $"{SectionName}:VocabPath is required.";
        if (!Regex.IsMatch(Device ?? "", @"^(cpu|cuda(:\d+)?)$"))
            yield return $"{SectionName}:Device '{Device}' must be 'cpu', 'cuda' or 'cuda:N'.";
        if (!Dtypes.Contains(Dtype)) yield return $"{SectionName}:Dtype '{Dtype}' must be one of {string.Join(", ", Dtypes)}.";
        if (Kernels is not ("auto" or "on" or "off")) yield return $"{SectionName}:Kernels '{Kernels}' must be 'auto', 'on' or 'off'.";
        if (ChunkLength < 1) yield return $"{SectionName}:ChunkLength {ChunkLength} must be >= 1.";
        if (SegmentLength < 1) yield return $"{SectionName}:SegmentLength {SegmentLength} must be >= 1.";
        if (MaxTokens < 1) yield return $"{SectionName}:MaxTokens {MaxTokens} must be >= 1.";
        if (MaxPromptTokens < 1) yield return $"{SectionName}:MaxPromptTokens {MaxPromptTokens} must be >= 1.";
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
