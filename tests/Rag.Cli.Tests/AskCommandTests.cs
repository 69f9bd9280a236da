using System.Text.Json;
using Rag.Orchestrator.Cli;

namespace Rag.Orchestrator.Tests;

/// <summary>`rag ask` end to end with the tiny fixture model: timings and reproducible sampling.</summary>
[Collection(nameof(ConsoleCapture))]
public sealed class AskCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("rag-ask-cli").FullName;

    private async Task<string> Config()
    {
        var docs = Directory.CreateDirectory(Path.Combine(_directory, "docs")).FullName;
        await File.WriteAllTextAsync(Path.Combine(docs, "sqlite.txt"), "SQLite keeps readers and writers apart with a write-ahead log.");
        var config = Path.Combine(_directory, "config.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Store = new { DataDirectory = Path.Combine(_directory, "data") },
            Generator = new { ModelPath = TinyRwkv.ModelPath, VocabPath = TinyRwkv.VocabPath, Device = "cpu", Dtype = "fp32" },
            Logging = new { LogLevel = new { Default = "Warning" } },
        }));
        Assert.Equal(0, await RagCli.Build().Parse(["ingest", docs, "--config", config]).InvokeAsync());
        return config;
    }

    private static async Task<(int Exit, string Output)> Run(params string[] args)
    {
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        try
        {
            int exit = await RagCli.Build().Parse(args).InvokeAsync();
            return (exit, output.ToString());
        }
        finally
        {
            Console.SetOut(previous);
        }
    }

    private static string Answer(string output) =>
        output[(output.IndexOf("Answer:", StringComparison.Ordinal) + 7)..output.IndexOf("Sources:", StringComparison.Ordinal)].Trim();

    [Fact]
    public async Task Timings_name_every_stage_a_user_waits_for()
    {
        var config = await Config();
        var (exit, output) = await Run("ask", "How does SQLite keep readers apart?", "--timings", "--temperature", "0", "--max-tokens", "5", "--config", config);
        Assert.Equal(0, exit);
        var line = output.Split('\n').Single(l => l.StartsWith("timings:", StringComparison.Ordinal));
        foreach (var stage in new[] { "load", "retrieve", "pack", "prefill", "decode" }) Assert.Contains(stage + " ", line);
        Assert.Contains("prompt tokens", line);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_sampled_answer()
    {
        var config = await Config();
        string[] ask = ["ask", "How does SQLite keep readers apart?", "--temperature", "0.7", "--top-p", "0.9", "--seed", "7", "--max-tokens", "24", "--config", config];
        var first = await Run(ask);
        var second = await Run(ask);
        Assert.Equal(0, first.Exit);
        Assert.NotEmpty(Answer(first.Output));
        Assert.Equal(Answer(first.Output), Answer(second.Output));
    }

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Tests that redirect Console.Out run one at a time.</summary>
[CollectionDefinition(nameof(ConsoleCapture), DisableParallelization = true)]
public sealed class ConsoleCapture;
