using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Rag.Generator.Generation;

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
            ["Generator:ChunkLength"] = "64",
        }).Build();
        var options = configuration.GetSection(GeneratorOptions.SectionName).Get<GeneratorOptions>()!;

        Assert.Equal(("m.pth", "v.txt", "cuda:1", 64), (options.ModelPath, options.VocabPath, options.Device, options.ChunkLength));
        Assert.Equal(("fp32", 4096, 512), (options.Dtype, options.SegmentLength, options.MaxTokens));
        Assert.True(new GeneratorOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Every_broken_rule_is_reported_with_key_and_value()
    {
        var options = new GeneratorOptions { Device = "tpu", Dtype = "int4", ChunkLength = 0, MaxTokens = -5, TopP = 2 };
        var result = new GeneratorOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains(failures, f => f.Contains("Generator:ModelPath"));
        Assert.Contains(failures, f => f.Contains("Generator:VocabPath"));
        Assert.Contains(failures, f => f.Contains("Generator:Device 'tpu'"));
        Assert.Contains(failures, f => f.Contains("Generator:Dtype 'int4'"));
        Assert.Contains(failures, f => f.Contains("Generator:ChunkLength 0"));
        Assert.Contains(failures, f => f.Contains("Generator:MaxTokens -5"));
        Assert.Contains(failures, f => f.Contains("Generator:TopP 2"));
        Assert.Equal(7, failures.Count);
    }
}
