using Rag.Generator.Generation;
using System.Diagnostics;
using System.Text.Json;
using Rag.Generator.Checkpoints;
using Rag.Generator.Model;
using static TorchSharp.torch;

namespace Rag.Generator.Benchmarks;

/// <param name="PeakResidentBytes">The process's peak resident set (VmHWM) during the load; null where /proc is missing.</param>
public sealed record LoadMeasurement(double Seconds, long WeightBytes, long? PeakResidentBytes, long? ResidentBeforeBytes, long? ResidentAfterBytes);

/// <summary>
/// Measures what loading a checkpoint costs: wall time and the peak resident memory of the process, against the
/// size of the weights the model keeps. Peak memory is Linux's VmHWM, reset just before the load.
/// </summary>
public static class LoadBenchmark
{
    /// <summary>
    /// Writes a safetensors checkpoint of <paramref name="config"/>'s shape with random values in
    /// <paramref name="dtype"/>, one tensor at a time, so that a 1.5B file needs no more memory than its largest tensor.
    /// </summary>
    public static void WriteSynthetic(string path, Rwkv7Config config, ScalarType dtype, long seed = 1)
    {
        var shapes = config.ExpectedShapes().ToList();
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var (key, shape) in shapes)
        {
            long bytes = shape.Aggregate(1L, (a, b) => a * b) * SafeTensors.ElementSize(dtype);
            header[key] = new { dtype = SafeTensors.DTypeName(dtype), shape, data_offsets = new[] { offset, offset + bytes } };
            offset += bytes;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        var temporary = path + ".partial";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            file.Write(BitConverter.GetBytes((ulong)json.Length));
            file.Write(json);
            random.manual_seed(seed);
            foreach (var (_, shape) in shapes)
            {
                using var scope = NewDisposeScope();
                var t = randn(shape, ScalarType.Float32).mul_(0.02).to(dtype).contiguous();
                file.Write(t.bytes);
            }
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Loads <paramref name="path"/> with <paramref name="options"/>, timing it and tracking peak memory.</summary>
    public static LoadMeasurement Measure(string path, GeneratorOptions options)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long? before = ProcessMemory.ResidentBytes();
        ProcessMemory.ResetPeak();
        var clock = Stopwatch.StartNew();
        using var model = Rwkv7Model.Load(path, options);
        var seconds = clock.Elapsed.TotalSeconds;
        long? peak = ProcessMemory.PeakResidentBytes();
        long? after = ProcessMemory.ResidentBytes();
        return new LoadMeasurement(seconds, model.Config.WeightBytes(model.Dtype), peak, before, after);
    }
}

/// <summary>Resident memory of this process from /proc/self/status (Linux); null elsewhere.</summary>
public static class ProcessMemory
{
    public static long? ResidentBytes() => StatusKilobytes("VmRSS:") * 1024;

    public static long? PeakResidentBytes() => StatusKilobytes("VmHWM:") * 1024;

    /// <summary>Writing 5 to clear_refs resets VmHWM to the current resident size (Linux ≥ 4.0).</summary>
    public static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static long? StatusKilobytes(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? null : long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
