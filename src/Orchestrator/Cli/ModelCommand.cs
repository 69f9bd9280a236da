using Rag.Generator.Generation;
using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Rag.Generator.Checkpoints;
using Rag.Generator.Hub;
using Rag.Orchestrator.Composition;
using Rag.Generator.Model;
using Rag.Generator.Tokenization;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag model check|info|tokenize`: inspect checkpoints and the tokenizer without the rest of the stack.</summary>
public static class ModelCommand
{
    public static Command Create()
    {
        var command = new Command("model", "Inspect RWKV-7 checkpoints and the World tokenizer.");
        command.Subcommands.Add(Check());
        command.Subcommands.Add(Info());
        command.Subcommands.Add(Tokenize());
        command.Subcommands.Add(Pull());
        command.Subcommands.Add(List());
        return command;
    }

    private static Option<string?> ModelsDirectoryOption() => new("--models-dir") { Description = "Models folder (default: Generator:ModelsDirectory, \"models\")." };

    private static GeneratorOptions Settings(ParseResult parse, Option<string?> modelsDirectory)
    {
        var options = new ConfigurationBuilder().AddRagSources(parse.GetValue(RagCli.ConfigOption)).Build().GetSection(GeneratorOptions.SectionName).Get<GeneratorOptions>() ?? new GeneratorOptions();
        if (parse.GetValue(modelsDirectory) is { } directory) options.ModelsDirectory = directory;
        return options;
    }

    private static Command Pull()
    {
        var model = new Argument<string>("model") { Description = $"A published model ({string.Join(", ", PublishedModels.ByName.Keys)}) or the http(s) URL of a .pth/.safetensors checkpoint." };
        var modelsDirectory = ModelsDirectoryOption();
        var command = new Command("pull", "Download a published RWKV-7 checkpoint and the World vocabulary into the models folder (resumes a broken download, verifies the SHA-256 the hub announces).")
        {
            model, modelsDirectory,
        };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            var options = Settings(parse, modelsDirectory);
            var store = new ModelStore(options.ModelsDirectory);
            // The downloader follows redirects itself, to read the checksum the hub puts on its redirect.
            using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };
            var progress = new ProgressBar(Console.Error);
            var path = await store.PullAsync(parse.GetValue(model)!, new ModelDownloader(http), new Uri(options.HubEndpoint), progress, ct);
            progress.End();
            Console.WriteLine($"{path}");
            Console.WriteLine($"use it with Generator__ModelPath={parse.GetValue(model)} (vocabulary: {store.VocabularyPath})");
            return CliErrors.Ok;
        }, ct));
        return command;
    }

    private static Command List()
    {
        var modelsDirectory = ModelsDirectoryOption();
        var command = new Command("list", "Models in the models folder, with their names for Generator:ModelPath.") { modelsDirectory };
        command.SetAction((parse, ct) => CliErrors.RunAsync(() =>
        {
            var store = new ModelStore(Settings(parse, modelsDirectory).ModelsDirectory);
            var models = store.List();
            Console.WriteLine($"{store.Directory}: {models.Count} model(s)");
            foreach (var m in models) Console.WriteLine($"  {m.Name,-20} {m.Bytes / 1e9,7:F2} GB  {Path.GetFileName(m.Path)}");
            if (File.Exists(store.VocabularyPath)) Console.WriteLine($"  vocabulary           {Path.GetFileName(store.VocabularyPath)}");
            return Task.FromResult(CliErrors.Ok);
        }, ct));
        return command;
    }

    /// <summary>One line redrawn in place: file, bar, bytes and rate.</summary>
    private sealed class ProgressBar(TextWriter output) : IProgress<DownloadProgress>
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private long _drawnAt = -1;
        private long _startBytes = -1;

        public void Report(DownloadProgress value)
        {
            if (_startBytes < 0) _startBytes = value.Done; // a resumed download's rate counts only this run's bytes
            long now = _clock.ElapsedMilliseconds;
            if (now - _drawnAt < 200 && value.Done != value.Total) return;
            _drawnAt = now;
            double rate = (value.Done - _startBytes) / Math.Max(_clock.Elapsed.TotalSeconds, 1e-3) / 1e6;
            string bar = value.Total is { } total and > 0
                ? $"[{new string('#', (int)(30 * value.Done / total)),-30}] {100.0 * value.Done / total,5:F1}% {value.Done / 1e6:F1}/{total / 1e6:F1} MB"
                : $"{value.Done / 1e6:F1} MB";
            output.Write($"\r{value.File} {bar} {rate:F1} MB/s   ");
        }

        public void End() => output.WriteLine();
    }

    private static Option<string> ModelOption() => new("--model") { Description = "RWKV-7 checkpoint (.pth or .safetensors).", Required = true };

    private static Command Check()
    {
        var model = ModelOption();
        var expected = new Option<string>("--expected") { Description = "Expected-logits .safetensors (caseN.tokens/caseN.logits, batch.tokens/batch.logits).", Required = true };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        var dtype = new Option<string>("--dtype") { Description = "fp32, bf16 or fp16.", DefaultValueFactory = _ => "fp32" };
        var tolerance = new Option<double?>("--tolerance") { Description = "Max relative error to pass (default: 1e-4 fp32, 0.02 fp16, 0.125 bf16)." };
        var chunk = new Option<int>("--chunk-length") { Description = "Prefill chunk length.", DefaultValueFactory = _ => GeneratorOptions.MaxChunkLength };
        var kernels = new Option<string>("--kernels") { Description = "auto, on or off: Rag's CUDA kernels or the TorchSharp reference path.", DefaultValueFactory = _ => "auto" };
        var command = new Command("check", "Run every case of an expected-logits file and print the max relative error per case with PASS/FAIL (exit 1 on FAIL).")
        {
            model, expected, device, dtype, tolerance, chunk, kernels,
        };
        command.SetAction((parse, ct) => CliErrors.RunAsync(() =>
        {
            var options = ModelFlags.LoadOptions(parse.GetValue(device)!, parse.GetValue(dtype)!, parse.GetValue(chunk), parse.GetValue(kernels)!);
            var expectedFile = ModelFlags.ExistingFile(parse.GetValue(expected)!, "--expected");
            double limit = parse.GetValue(tolerance) ?? DefaultTolerance(options.Dtype);
            using var rwkv = Rwkv7Model.Load(parse.GetValue(model)!, options);
            Console.WriteLine($"model {parse.GetValue(model)}: {rwkv.Config} on {options.Device} {options.Dtype}; kernels {rwkv.KernelStatus}; tolerance {limit:G3}");
            bool pass = true;
            foreach (var result in ParityCheck.Run(rwkv, expectedFile))
            {
                bool ok = result.MaxRelativeError <= limit;
                pass &= ok;
                Console.WriteLine($"{result.Case,-13} batch {result.Batch} tokens {result.Tokens,5}  max rel err {result.MaxRelativeError:E3}  {(ok ? "PASS" : "FAIL")}");
            }
            Console.WriteLine(pass ? "PASS" : "FAIL");
            return Task.FromResult(pass ? CliErrors.Ok : CliErrors.Failed);
        }, ct));
        return command;
    }

    /// <summary>bf16 keeps 8 mantissa bits, fp16 11: reduced-precision weights cannot meet the fp32 bound.</summary>
    private static double DefaultTolerance(string dtype) => GeneratorOptions.ParseDtype(dtype) switch
    {
        TorchSharp.torch.ScalarType.BFloat16 => 0.125,
        TorchSharp.torch.ScalarType.Float16 => 0.02,
        _ => 1e-4,
    };

    private static Command Info()
    {
        var model = ModelOption();
        var command = new Command("info", "Print a checkpoint's shape and parameter count.") { model };
        command.SetAction((parse, ct) => CliErrors.RunAsync(() =>
        {
            var path = parse.GetValue(model)!;
            // Only the file's index is read: shapes and dtypes, no tensor data.
            using var checkpoint = Rwkv7Checkpoint.Open(path);
            var config = Rwkv7Config.Infer(checkpoint.Tensors, path);
            Console.WriteLine($"file        {path}");
            Console.WriteLine($"shape       {config}");
            Console.WriteLine($"parameters  {config.ParameterCount:N0}");
            foreach (var (device, dtype) in new[] { ("cpu", "fp32"), ("cuda", "bf16"), ("cuda", "fp16") })
            {
                long bytes = config.WeightBytes(GeneratorOptions.ParseDtype(dtype));
                Console.WriteLine($"memory      {device,-4} {dtype}: {(bytes >= 1e9 ? $"{bytes / 1e9:F2} GB" : $"{bytes / 1e6:F1} MB")} of weights" +
                                  (device == "cpu" ? " resident" : " on the GPU"));
            }
            return Task.FromResult(CliErrors.Ok);
        }, ct));
        return command;
    }

    private static Command Tokenize()
    {
        var vocab = new Option<string>("--vocab") { Description = "RWKV World vocabulary (rwkv_vocab_v20230424.txt format).", Required = true };
        var textFile = new Option<string>("--text-file") { Description = "UTF-8 text to encode (or, with --decode, a JSON array of token ids).", Required = true };
        var decode = new Option<bool>("--decode") { Description = "Decode a JSON array of ids back to text." };
        var command = new Command("tokenize", "Print the token ids of a file's text as a JSON array, or decode ids with --decode.") { vocab, textFile, decode };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            var tokenizer = WorldTokenizer.Load(parse.GetValue(vocab)!);
            var path = parse.GetValue(textFile)!;
            var content = await File.ReadAllTextAsync(path, ct);
            if (parse.GetValue(decode))
            {
                int[] ids;
                try
                {
                    ids = JsonSerializer.Deserialize<int[]>(content) ?? [];
                }
                catch (JsonException e)
                {
                    throw new RagInputException($"'{path}' is not a JSON array of token ids: {e.Message}");
                }
                var outOfRange = ids.Where(id => id < 0 || id >= tokenizer.VocabSize).Take(1).ToList();
                if (outOfRange.Count > 0)
                    throw new RagInputException($"'{path}' holds token id {outOfRange[0]}, outside the vocabulary (0..{tokenizer.VocabSize - 1}).");
                Console.Write(tokenizer.Decode(ids));
            }
            else
            {
                Console.WriteLine(JsonSerializer.Serialize(tokenizer.EncodeToIds(content)));
            }
            return CliErrors.Ok;
        }, ct));
        return command;
    }
}
