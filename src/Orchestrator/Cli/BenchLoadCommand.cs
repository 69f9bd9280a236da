using Rag.Generator.Generation;
using System.CommandLine;
using Rag.Generator.Benchmarks;
using Rag.Generator.Model;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Cli;

/// <summary>
/// `rag bench load`: peak resident memory and time of loading a checkpoint of a published shape (a synthetic
/// file with random weights is written first when --file does not exist).
/// </summary>
public static class BenchLoadCommand
{
    public static Command Create()
    {
        var shape = new Option<string>("--shape") { Description = $"Published shape of the synthetic file: {string.Join(", ", Rwkv7Config.Published.Keys)}.", DefaultValueFactory = _ => "1.5b" };
        var fileDtype = new Option<string>("--file-dtype") { Description = "dtype stored in the synthetic file (published checkpoints are bf16).", DefaultValueFactory = _ => "bf16" };
        var file = new Option<string?>("--file") { Description = "Checkpoint to load; written (synthetic, random weights) when it does not exist. Default: <temp>/rag-synthetic-<shape>-<file dtype>.safetensors." };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        var dtype = new Option<string>("--dtype") { Description = "Model dtype: fp32, bf16 or fp16.", DefaultValueFactory = _ => "bf16" };
        var command = new Command("load", "Peak resident memory and time of loading a (synthetic) checkpoint of a published shape.")
        {
            shape, fileDtype, file, device, dtype,
        };
        command.SetAction((parse, ct) => CliErrors.RunAsync(() =>
        {
            var shapeName = parse.GetValue(shape)!;
            if (!Rwkv7Config.Published.TryGetValue(shapeName, out var config))
                throw new RagInputException($"Unknown --shape '{shapeName}'; expected one of {string.Join(", ", Rwkv7Config.Published.Keys)}.");
            var stored = GeneratorOptions.ParseDtype(parse.GetValue(fileDtype)!);
            var path = parse.GetValue(file) ?? Path.Combine(Path.GetTempPath(), $"rag-synthetic-{shapeName}-{parse.GetValue(fileDtype)}.safetensors");
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"writing {path} ({config}, {stored})…");
                LoadBenchmark.WriteSynthetic(path, config, stored);
            }
            var options = new GeneratorOptions { Device = parse.GetValue(device)!, Dtype = parse.GetValue(dtype)! };
            var m = LoadBenchmark.Measure(path, options);
            static string Gb(long? bytes) => bytes is { } b ? $"{b / 1e9:F2} GB" : "n/a";
            Console.WriteLine($"file          {path} ({new FileInfo(path).Length / 1e9:F2} GB)");
            Console.WriteLine($"model         {config} on {options.Device} {options.Dtype}");
            Console.WriteLine($"load time     {m.Seconds:F1} s");
            Console.WriteLine($"weights       {Gb(m.WeightBytes)}");
            Console.WriteLine($"RSS before    {Gb(m.ResidentBeforeBytes)}");
            Console.WriteLine($"peak RSS      {Gb(m.PeakResidentBytes)}" + (m.PeakResidentBytes is { } p ? $"  ({(double)p / m.WeightBytes:F2}× the weights)" : ""));
            Console.WriteLine($"RSS after     {Gb(m.ResidentAfterBytes)}");
            return Task.FromResult(CliErrors.Ok);
        }, ct));
        return command;
    }
}
