using System.CommandLine;
using System.Text.Json;
using Rag.Generator.Checkpoints;
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
        return command;
    }

    private static Option<string> ModelOption() => new("--model") { Description = "RWKV-7 checkpoint (.pth or .safetensors).", Required = true };

    private static Command Check()
    {
        var model = ModelOption();
        var expected = new Option<string>("--expected") { Description = "Expected-logits .safetensors (caseN.tokens/caseN.logits, batch.tokens/batch.logits).", Required = true };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        var dtype = new Option<string>("--dtype") { Description = "fp32, bf16 or fp16.", DefaultValueFactory = _ => "fp32" };
        var tolerance = new Option<double?>("--tolerance") { Description = "Max relative error to pass (default: 1e-4 fp32, 0.02 fp16, 0.125 bf16)." };
        var chunk = new Option<int>("--chunk-length") { Description = "Prefill chunk length.", DefaultValueFactory = _ => 32 };
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
    private static double DefaultTolerance(string dtype) => ModelLoadOptions.ParseDtype(dtype) switch
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
            var weights = Checkpoint.Load(path);
            try
            {
                var config = Rwkv7Config.Infer(weights, path);
                config.Validate(weights, path);
                Console.WriteLine($"file        {path}");
                Console.WriteLine($"shape       {config}");
                Console.WriteLine($"parameters  {config.ParameterCount:N0}");
            }
            finally
            {
                foreach (var t in weights.Values) t.Dispose();
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
