using Rag.Generator.Generation;
using System.CommandLine;
using System.Globalization;
using System.Text;
using Rag.Generator.Benchmarks;
using Rag.Generator.Model;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Cli;

/// <summary>
/// `rag bench generator`: prefill and decode of a randomly initialised RWKV-7 of a published shape over
/// growing passage counts, optionally beside a softmax-attention transformer of the same width and depth.
/// </summary>
public static class BenchGeneratorCommand
{
    public static Command Create()
    {
        var shape = new Option<string>("--shape") { Description = $"Published shape: {string.Join(", ", Rwkv7Config.Published.Keys)}.", DefaultValueFactory = _ => "tiny" };
        var passages = new Option<string>("--passages") { Description = "Comma-separated passage counts.", DefaultValueFactory = _ => "8,16,32,64,128,256,512" };
        var passageTokens = new Option<int>("--passage-tokens") { Description = "Tokens per passage.", DefaultValueFactory = _ => 256 };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        var dtype = new Option<string>("--dtype") { Description = "fp32, bf16 or fp16.", DefaultValueFactory = _ => "fp32" };
        var baseline = new Option<string>("--baseline") { Description = "none, or softmax: also run a transformer with scaled_dot_product_attention and a KV cache.", DefaultValueFactory = _ => "none" };
        var repeats = new Option<int>("--repeats") { Description = "Timed prefill runs per row (median reported).", DefaultValueFactory = _ => 5 };
        var decodeBatches = new Option<string>("--decode-batches") { Description = "Comma-separated decode batch sizes.", DefaultValueFactory = _ => "1,16,64" };
        var segment = new Option<int>("--segment-length") { Description = "RWKV prefill segment length in tokens (state carried between segments).", DefaultValueFactory = _ => 16384 };
        var chunk = new Option<int>("--chunk-length") { Description = "RWKV chunk length inside a segment.", DefaultValueFactory = _ => 32 };
        var csv = new Option<string?>("--csv") { Description = "Also write the rows as CSV to this file." };
        var breakdown = new Option<bool>("--breakdown") { Description = "Also time the parts of one RWKV prefill segment alone (projections, LoRAs, WKV, head)." };
        var kernels = new Option<string>("--kernels") { Description = "auto, on, off, or both (one RWKV row set on Rag's CUDA kernels, one on the TorchSharp path).", DefaultValueFactory = _ => "auto" };
        var command = new Command("generator", "Prefill/decode benchmark of RWKV-7 (and a softmax baseline) at a published shape.")
        {
            shape, passages, passageTokens, device, dtype, baseline, repeats, decodeBatches, segment, chunk, csv, breakdown, kernels,
        };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            var shapeName = parse.GetValue(shape)!;
            if (!Rwkv7Config.Published.TryGetValue(shapeName, out var config))
                throw new RagInputException($"Unknown --shape '{shapeName}'; expected one of {string.Join(", ", Rwkv7Config.Published.Keys)}.");
            var kernelModes = parse.GetValue(kernels) is "both" ? new[] { "on", "off" } : [parse.GetValue(kernels)!];
            var loadOptions = ModelFlags.LoadOptions(parse.GetValue(device)!, parse.GetValue(dtype)!, parse.GetValue(chunk), kernelModes[0], parse.GetValue(segment));
            var settings = new GeneratorBenchmarkSettings(
                CliOptions.PositiveIntList(parse.GetValue(passages)!, "--passages"), parse.GetValue(passageTokens), parse.GetValue(repeats),
                DecodeBatches: CliOptions.PositiveIntList(parse.GetValue(decodeBatches)!, "--decode-batches"));
            var subjects = kernelModes.Select(mode => Rwkv(config, new GeneratorOptions
            {
                Device = loadOptions.Device, Dtype = loadOptions.Dtype, ChunkLength = loadOptions.ChunkLength,
                SegmentLength = loadOptions.SegmentLength, Kernels = mode,
            }, kernelModes.Length > 1 ? $"rwkv7 kernels {mode}" : "rwkv7")).ToList();
            switch (parse.GetValue(baseline))
            {
                case "softmax": subjects.Add(Softmax(config, loadOptions)); break;
                case "none": break;
                case var other: throw new RagInputException($"Unknown --baseline '{other}'; expected none or softmax.");
            }

            var (dev, scalar) = (loadOptions.ResolveDevice(), loadOptions.ResolveDtype());
            Console.WriteLine($"shape {shapeName}: {config}; {config.ParameterCount:N0} parameters; {dev} {loadOptions.Dtype}");
            Console.WriteLine($"matmul rate ({loadOptions.Dtype}, 8192³): {GeneratorBenchmark.MeasureMatmulTflops(dev, scalar, size: dev.type == TorchSharp.DeviceType.CUDA ? 8192 : 1024, iterations: dev.type == TorchSharp.DeviceType.CUDA ? 20 : 2):F1} TFLOP/s");
            if (dev.type == TorchSharp.DeviceType.CUDA)
            {
                double bandwidth = GeneratorBenchmark.MeasureCopyBandwidth(dev);
                long weightBytes = config.ParameterCount * (scalar == TorchSharp.torch.ScalarType.Float32 ? 4 : 2);
                Console.WriteLine($"device copy bandwidth {bandwidth / 1e12:F2} TB/s (read + write); weights {weightBytes / 1e9:F2} GB: " +
                                  $"decode floor at batch 1 (weights read once per token) {weightBytes / bandwidth * 1e3:F3} ms/token");
            }
            var bench = new GeneratorBenchmark(settings, message => Console.Error.WriteLine(message));
            var rows = subjects.SelectMany(bench.Run).ToList();
            Console.WriteLine(Table(rows, settings));
            if (parse.GetValue(breakdown))
            {
                long tokens = Math.Min((long)settings.PassageCounts.Max() * settings.PassageTokens, loadOptions.SegmentLength);
                Console.WriteLine($"prefill breakdown, one segment of {tokens} tokens (each part run alone):");
                foreach (var stage in PrefillBreakdown.Measure(config, loadOptions, tokens))
                    Console.WriteLine($"  {stage.Stage,-28} {stage.Milliseconds,9:F1} ms {stage.Tflops,8:F1} TFLOP/s");
            }
            var csvText = Csv(rows);
            if (parse.GetValue(csv) is { } csvPath) await File.WriteAllTextAsync(csvPath, csvText, ct);
            else Console.WriteLine(csvText);
            return rows.All(r => r.Error is null) ? CliErrors.Ok : CliErrors.Failed;
        }, ct));
        return command;
    }

    private static BenchmarkSubject Rwkv(Rwkv7Config c, GeneratorOptions options, string name) => new(
        name,
        () =>
        {
            var model = Rwkv7Model.CreateRandom(c, options, seed: 1);
            Console.WriteLine($"{name}: {model.KernelStatus}");
            return model;
        },
        tokens => FlopCount.Rwkv7Prefill(c.LayerCount, c.EmbeddingSize, c.HeadSize, c.FfnSize, c.VocabSize,
            c.DecayLoraRank, c.LearningRateLoraRank, c.ValueLoraRank, c.GateLoraRank, tokens));

    private static BenchmarkSubject Softmax(Rwkv7Config c, GeneratorOptions options) => new(
        "softmax",
        () => new SoftmaxTransformer(c.LayerCount, c.EmbeddingSize, c.HeadSize, c.VocabSize, options.ResolveDevice(), options.ResolveDtype(), seed: 1),
        tokens => FlopCount.SoftmaxPrefill(c.LayerCount, c.EmbeddingSize, c.VocabSize, tokens));

    private static string Table(IReadOnlyList<GeneratorBenchmarkRow> rows, GeneratorBenchmarkSettings settings)
    {
        var sb = new StringBuilder();
        var decodeHeads = string.Concat(settings.DecodeBatchSizes.Select(b => $" {"dec b" + b + " ms",12}"));
        sb.AppendLine($"{"model",-8} {"passages",8} {"tokens",8} {"prefill ms",11} {"tok/s",11} {"ms/passage",10} {"TFLOP/s",8} {"peak MiB",9}{decodeHeads} {"dec b1 MiB",10}");
        foreach (var r in rows)
        {
            var decode = string.Concat(settings.DecodeBatchSizes.Select(b =>
                $" {(r.Decode.FirstOrDefault(d => d.Batch == b) is { } d ? d.MsPerStep?.ToString("F2", CultureInfo.InvariantCulture) ?? d.Error : "-"),12}"));
            var decodeMemory = Mib(r.Decode.FirstOrDefault(d => d.Batch == 1)?.PeakBytes);
            sb.AppendLine(r.Error is not null
                ? $"{r.Model,-8} {r.Passages,8} {r.PromptTokens,8} {r.Error,11}"
                : $"{r.Model,-8} {r.Passages,8} {r.PromptTokens,8} {r.PrefillMs,11:F1} {r.TokensPerSecond,11:F0} {r.MsPerPassage,10:F3} {r.Tflops,8:F1} {Mib(r.PeakBytes),9}{decode} {decodeMemory,10}");
        }
        return sb.ToString();
    }

    private static string Csv(IReadOnlyList<GeneratorBenchmarkRow> rows)
    {
        var sb = new StringBuilder("model,passages,prompt_tokens,prefill_ms,tokens_per_s,ms_per_passage,tflops,peak_bytes,decode_batch,decode_ms_per_step,decode_tokens_per_s,decode_peak_bytes,error\n");
        foreach (var r in rows)
        {
            var decodes = r.Decode.Count > 0 ? r.Decode : [new DecodeMeasurement(0, null, null, null, null)];
            foreach (var d in decodes)
                sb.AppendLine(string.Join(',', r.Model, r.Passages, r.PromptTokens, F(r.PrefillMs), F(r.TokensPerSecond), F(r.MsPerPassage), F(r.Tflops),
                    r.PeakBytes?.ToString(CultureInfo.InvariantCulture) ?? "", d.Batch, F(d.MsPerStep), F(d.TokensPerSecond),
                    d.PeakBytes?.ToString(CultureInfo.InvariantCulture) ?? "", r.Error ?? d.Error ?? ""));
        }
        return sb.ToString();
    }

    private static string F(double? v) => v?.ToString("G6", CultureInfo.InvariantCulture) ?? "";

    private static string Mib(long? bytes) => bytes is { } b ? (b / 1048576.0).ToString("F0", CultureInfo.InvariantCulture) : "n/a";
}
