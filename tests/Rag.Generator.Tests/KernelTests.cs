using System.Text.RegularExpressions;
using Rag.Generator.Generation;
using Rag.Generator.Kernels;
using Rag.Generator.Model;
using Rag.Generator.Tokenization;
using TorchSharp;

namespace Rag.Generator.Tests;

/// <summary>Rag's CUDA kernels: how they are chosen, found and cached (everywhere), and exactness (on a GPU).</summary>
public class KernelTests
{
    private static string Fixture(string name) => TestData.Path("rwkv7", name);

    [Fact]
    public void Kernels_on_without_a_GPU_is_a_one_line_error_naming_the_setting()
    {
        var e = Assert.Throws<KernelsUnavailableException>(() =>
            Rwkv7Model.Load(Fixture("rwkv7-tiny-a.pth"), new GeneratorOptions { Device = "cpu", Kernels = "on" }));
        Assert.Contains("Generator:Kernels", e.Message);
        Assert.Contains("CUDA", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Kernels_auto_on_the_CPU_runs_the_TorchSharp_path()
    {
        using var model = Rwkv7Model.Load(Fixture("rwkv7-tiny-a.pth"), new GeneratorOptions { Device = "cpu", Kernels = "auto" });
        Assert.StartsWith("off", model.KernelStatus);
        Assert.Contains("CUDA device", model.KernelStatus);
        Assert.DoesNotContain("'on'", model.KernelStatus);  // the reason must not claim a setting the user did not make
    }

    [Fact]
    public void An_unknown_kernels_setting_lists_the_valid_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => new GeneratorOptions { Kernels = "fast" }.Validate());
        Assert.Contains("\"auto\", \"on\" or \"off\"", e.Message);
        Assert.Contains(new GeneratorOptions { ModelPath = "m", VocabPath = "v", Kernels = "fast" }.Problems(), p => p.Contains("Generator:Kernels"));
    }

    [SkippableFact]
    public void Missing_NVRTC_is_one_line_naming_where_it_looked_and_the_setting()
    {
        var empty = Scratch.Folder("no-nvrtc-");
        Nvrtc? found = null;
        try
        {
            found = Nvrtc.Find(empty);
        }
        catch (KernelsUnavailableException e)
        {
            Assert.Contains(empty, e.Message);
            Assert.Contains("Generator:NvrtcPath", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        Skip.If(found is not null, $"this machine has NVRTC ({found?.Path}), so the not-found message cannot be shown");
    }

    [Fact]
    public void The_cache_key_changes_with_the_source_the_architecture_the_options_and_the_compiler()
    {
        var key = KernelCompiler.CacheKey("src", "sm_90", ["-a"], "13.0");
        Assert.Equal(key, KernelCompiler.CacheKey("src", "sm_90", ["-a"], "13.0"));
        Assert.NotEqual(key, KernelCompiler.CacheKey("src2", "sm_90", ["-a"], "13.0"));
        Assert.NotEqual(key, KernelCompiler.CacheKey("src", "sm_80", ["-a"], "13.0"));
        Assert.NotEqual(key, KernelCompiler.CacheKey("src", "sm_90", ["-b"], "13.0"));
        Assert.NotEqual(key, KernelCompiler.CacheKey("src", "sm_90", ["-a"], "12.8"));
    }

    [Fact]
    public void Every_kernel_the_runtime_launches_is_defined_in_the_embedded_source()
    {
        var source = KernelCompiler.Source(Rwkv7Kernels.SourceFile);
        var defined = Regex.Matches(source, @"extern ""C"" __global__ void (?:__launch_bounds__\([^)]*\) )?(\w+)\(").Select(m => m.Groups[1].Value).ToHashSet();
        foreach (var suffix in new[] { "bf16", "f16", "f32" })
            foreach (var kernel in new[] { "embed_", "shift_mix_", "gemv_", "gemv_wide_", "gemv1_", "gemv1_wide_" })
                Assert.Contains(kernel + suffix, defined);
        Assert.Contains("wkv7_prefill", defined);
        Assert.Contains("wkv7_decode", defined);
    }

    // ---- on a GPU ----

    private static void SkipWithoutCuda() => Skip.IfNot(torch.cuda.is_available(), "no CUDA device: the kernels run only on a GPU");

    [SkippableTheory]
    [InlineData("rwkv7-tiny-a.pth")]
    [InlineData("rwkv7-tiny-a.safetensors")]
    public void Fp32_through_the_kernels_matches_the_reference_logits(string checkpoint)
    {
        SkipWithoutCuda();
        using var model = Rwkv7Model.Load(Fixture(checkpoint), new GeneratorOptions { Device = "cuda", Dtype = "fp32", Kernels = "on" });
        Rwkv7ParityTests.AssertAllCasesWithin(model, 1e-4);
    }

    [SkippableTheory]
    [InlineData("fp32")]
    [InlineData("bf16")]
    public async Task Greedy_text_is_the_same_with_and_without_the_kernels(string dtype)
    {
        SkipWithoutCuda();
        async Task<string> Generate(string kernels)
        {
            using var model = Rwkv7Model.Load(TinyRwkv.ModelPath, new GeneratorOptions { Device = "cuda", Dtype = dtype, Kernels = kernels });
            var generator = new TextGenerator(model, WorldTokenizer.Load(TinyRwkv.VocabPath));
            var parts = new List<string>();
            await foreach (var part in generator.Generate("The quick brown fox", new SamplingOptions { Temperature = 0, MaxTokens = 48 })) parts.Add(part);
            return string.Concat(parts);
        }
        Assert.Equal(await Generate("off"), await Generate("on"));
    }
}
