using Microsoft.Extensions.Configuration;
using Rag.Generator.Generation;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Tests;

public class GeneratorOptionsTests
{
    [Fact]
    public void Binds_the_generator_section_over_defaults()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Generator:ModelPath"] = "m.pth",
            ["Generator:VocabPath"] = "v.txt",
            ["Generator:Device"] = "cuda:1",
            ["Generator:ChunkLength"] = "16",
        }).Build();
        var options = configuration.GetSection(GeneratorOptions.SectionName).Get<GeneratorOptions>()!;

        Assert.Equal(("m.pth", "v.txt", "cuda:1", 16), (options.ModelPath, options.VocabPath, options.Device, options.ChunkLength));
        Assert.Equal(("auto", 4096, 512, "off"), (options.Dtype, options.SegmentLength, options.MaxTokens, options.Thinking));
        Assert.True(new GeneratorOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Defaults_pick_the_device_and_its_dtype_and_the_chunk_length_the_benchmark_favours()
    {
        var options = new GeneratorOptions();
        Assert.Equal(("auto", "auto", 64), (options.Device, options.Dtype, options.ChunkLength));
        var (device, dtype) = (options.ResolveDevice(), options.ResolveDtype());
        if (cuda.is_available()) Assert.Equal((DeviceType.CUDA, ScalarType.BFloat16), (device.type, dtype));
        else Assert.Equal((DeviceType.CPU, ScalarType.Float32), (device.type, dtype));
        Assert.Equal(ScalarType.BFloat16, new GeneratorOptions { Device = "cpu", Dtype = "bf16" }.ResolveDtype());
    }

    [Fact]
    public void Sampling_defaults_are_those_of_rwkv_chat_servers()
    {
        var options = new GeneratorOptions();
        Assert.Equal((1.0, 0.3, 0.5, 0.5, 0.996), (options.Temperature, options.TopP, options.PresencePenalty, options.FrequencyPenalty, options.PenaltyDecay));
    }

    [Fact]
    public void Every_broken_rule_is_reported_with_key_and_value()
    {
        var options = new GeneratorOptions { Device = "tpu", Dtype = "int4", ChunkLength = 65, MaxTokens = -5, TopP = 2, PenaltyDecay = 0, Thinking = "maybe" };
        var result = new GeneratorOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains(failures, f => f.Contains("Generator:Device 'tpu'"));
        Assert.Contains(failures, f => f.Contains("Generator:Dtype 'int4'"));
        Assert.Contains(failures, f => f.Contains("Generator:ChunkLength 65 must be between 1 and 64"));
        Assert.Contains(failures, f => f.Contains("Generator:MaxTokens -5"));
        Assert.Contains(failures, f => f.Contains("Generator:TopP 2"));
        Assert.Contains(failures, f => f.Contains("Generator:PenaltyDecay 0"));
        Assert.Contains(failures, f => f.Contains("Generator:Thinking 'maybe'"));
        Assert.Equal(7, failures.Count);
    }
}
