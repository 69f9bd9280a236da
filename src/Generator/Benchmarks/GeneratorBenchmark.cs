using System.Diagnostics;
using Rag.Generator.Model;
using static TorchSharp.torch;

namespace Rag.Generator.Benchmarks;

/// <summary>A model under test: how to build it and how much work its prefill and decode are.</summary>
/// <param name="PrefillFlops">FLOPs of a prefill of the given token count.</param>
public sealed record BenchmarkSubject(string Name, Func<ILanguageModel> Create, Func<long, double> PrefillFlops);

public sealed record GeneratorBenchmarkSettings(
    IReadOnlyList<int> PassageCounts,
    int PassageTokens = 256,
    int Repeats = 5,
    int Warmup = 1,
    IReadOnlyList<int>? DecodeBatches = null,
    int DecodeSteps = 16,
    long Seed = 1234)
{
    public IReadOnlyList<int> DecodeBatchSizes => DecodeBatches ?? [1, 16, 64];
}

/// <summary>Decode at one batch size after the row's prefill; <see cref="Error"/> says why it did not run (e.g. OOM).</summary>
public sealed record DecodeMeasurement(int Batch, double? MsPerStep, double? TokensPerSecond, long? PeakBytes, string? Error);

public sealed record GeneratorBenchmarkRow(
    string Model,
    int Passages,
    long PromptTokens,
    double? PrefillMs,
    double? TokensPerSecond,
    double? MsPerPassage,
    double? Tflops,
    long? PeakBytes,
    IReadOnlyList<DecodeMeasurement> Decode,
    string? Error);

/// <summary>
/// Times prefill over a growing number of passages and decode after it, for any <see cref="ILanguageModel"/>
/// (RWKV-7 and the softmax baseline alike), on one device, CUDA-synchronised, median of several runs.
/// </summary>
public sealed class GeneratorBenchmark(GeneratorBenchmarkSettings settings, Action<string>? log = null)
{
    public IEnumerable<GeneratorBenchmarkRow> Run(BenchmarkSubject subject)
    {
        using var model = subject.Create();
        foreach (int passages in settings.PassageCounts)
            yield return MeasureRow(subject, model, passages);
    }

    /// <summary>Device-to-device copy rate in bytes/s, counting bytes read plus bytes written (1 GiB buffers).</summary>
    public static double MeasureCopyBandwidth(Device device, int iterations = 10)
    {
        using var scope = NewDisposeScope();
        var source = rand([256L << 20], ScalarType.Float32, device);
        var target = empty_like(source);
        for (int i = 0; i < 3; i++) target.copy_(source);
        Synchronize(device);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++) target.copy_(source);
        Synchronize(device);
        return 2.0 * source.NumberOfElements * sizeof(float) * iterations / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Dense bf16 (or the given dtype) matmul rate of this device: the ceiling the prefill is compared with.</summary>
    public static double MeasureMatmulTflops(Device device, ScalarType dtype, int size = 8192, int iterations = 20)
    {
        using var scope = NewDisposeScope();
        var a = randn([size, size], dtype, device);
        var b = randn([size, size], dtype, device);
        for (int i = 0; i < 3; i++) matmul(a, b).Dispose();
        Synchronize(device);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++) matmul(a, b).Dispose();
        Synchronize(device);
        return 2.0 * size * size * (double)size * iterations / watch.Elapsed.TotalSeconds / 1e12;
    }

    private GeneratorBenchmarkRow MeasureRow(BenchmarkSubject subject, ILanguageModel model, int passages)
    {
        long tokens = (long)passages * settings.PassageTokens;
        log?.Invoke($"{subject.Name}: {passages} passages ({tokens} tokens)");
        using var prompt = RandomTokens(model, 1, tokens);
        var times = new List<double>();
        IModelState? state = null;
        long? peak = null;
        try
        {
            for (int run = 0; run < settings.Warmup + settings.Repeats; run++)
            {
                state?.Dispose();
                state = model.CreateState(1);
                CudaMemoryStats.ResetPeak();
                var watch = Stopwatch.StartNew();
                model.Forward(prompt, state).Dispose();
                Synchronize(model.Device);
                if (run >= settings.Warmup) times.Add(watch.Elapsed.TotalMilliseconds);
                peak = Max(peak, CudaMemoryStats.PeakBytes());
            }
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            state?.Dispose();
            return new GeneratorBenchmarkRow(subject.Name, passages, tokens, null, null, null, null, peak, [], "OOM");
        }

        double ms = Median(times);
        var decode = settings.DecodeBatchSizes.Select(b => MeasureDecode(model, state!, b)).ToList();
        state!.Dispose();
        return new GeneratorBenchmarkRow(subject.Name, passages, tokens, ms, tokens / (ms / 1000), ms / passages,
            subject.PrefillFlops(tokens) / (ms / 1000) / 1e12, peak, decode, null);
    }

    private DecodeMeasurement MeasureDecode(ILanguageModel model, IModelState prefilled, int batch)
    {
        IModelState? state = null;
        try
        {
            state = prefilled.Expand(batch);
            using var next = RandomTokens(model, batch, 1);
            CudaMemoryStats.ResetPeak();
            model.Forward(next, state).Dispose(); // warm-up step
            Synchronize(model.Device);
            var watch = Stopwatch.StartNew();
            for (int step = 0; step < settings.DecodeSteps; step++)
                model.Forward(next, state).Dispose();
            Synchronize(model.Device);
            double msPerStep = watch.Elapsed.TotalMilliseconds / settings.DecodeSteps;
            return new DecodeMeasurement(batch, msPerStep, batch / (msPerStep / 1000), CudaMemoryStats.PeakBytes(), null);
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            return new DecodeMeasurement(batch, null, null, null, "OOM");
        }
        finally
        {
            state?.Dispose();
        }
    }

    private Tensor RandomTokens(ILanguageModel model, int batch, long length)
    {
        using var generator = new TorchSharp.torch.Generator((ulong)settings.Seed);
        using var tokens = randint(0, model.VocabSize, [batch, length], generator: generator, dtype: ScalarType.Int64);
        return tokens.to(model.Device).clone();
    }

    internal static void Synchronize(Device device)
    {
        if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize();
    }

    /// <summary>
    /// True for an out-of-memory failure, after reclaiming what the failed step left behind: tensors it
    /// allocated before failing are only freed by their finalizers, and would make every later row fail too.
    /// </summary>
    private static bool IsOutOfMemory(Exception e)
    {
        bool oom = e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) || e is OutOfMemoryException;
        if (oom)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return oom;
    }

    private static long? Max(long? a, long? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
