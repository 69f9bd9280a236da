using System.Diagnostics;
using Rag.Generator.Generation;
using Rag.Generator.Kernels;
using Rag.Generator.Model;
using static TorchSharp.torch;

namespace Rag.Generator.Benchmarks;

/// <summary>One part of an RWKV-7 prefill timed alone: its share of the whole and its achieved rate.</summary>
public sealed record PrefillStage(string Stage, double Milliseconds, double Tflops);

/// <summary>
/// Where prefill time goes: the same shapes as one prefill of <c>tokens</c>, split into the dense
/// projections (r, k, v, output, channel mix: plain matmuls in the model dtype), the LoRAs, the WKV
/// operator (fp32: Rag's CUDA scan where the options' kernels load, else the chunked tensor-op form) and the head,
/// each run alone and CUDA-synchronised. What the stages do not cover of the measured total is elementwise work
/// (token shift, norms, activations, gates) and launches.
/// </summary>
public static class PrefillBreakdown
{
    public static IReadOnlyList<PrefillStage> Measure(Rwkv7Config c, GeneratorOptions options, long tokens, int repeats = 3)
    {
        var (device, dtype) = (options.ResolveDevice(), options.ResolveDtype());
        var kernels = Rwkv7Kernels.Load(c, device, dtype, options.ResolveKernels(), options.NvrtcPath, options.KernelCacheDirectory, out _);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long C = c.EmbeddingSize, F = c.FfnSize, H = c.HeadCount, N = c.HeadSize;
        var x = randn([tokens, C], dtype, device) * 0.1;
        var square = randn([C, C], dtype, device) * 0.02;
        var up = randn([C, F], dtype, device) * 0.02;
        var down = randn([F, C], dtype, device) * 0.02;
        var hidden = randn([tokens, F], dtype, device) * 0.1;
        long lora = c.DecayLoraRank + c.LearningRateLoraRank + c.ValueLoraRank + c.GateLoraRank;
        var loraDown = randn([C, lora], dtype, device) * 0.02;
        var loraUp = randn([lora, C], dtype, device) * 0.02;
        var loraHidden = randn([tokens, lora], dtype, device) * 0.1;

        double projectionFlops = c.LayerCount * 2.0 * tokens * (4.0 * C * C + 2.0 * C * F);
        double projections = Time(device, repeats, () =>
        {
            for (int layer = 0; layer < c.LayerCount; layer++)
            {
                for (int i = 0; i < 4; i++) x.matmul(square).Dispose();
                x.matmul(up).Dispose();
                hidden.matmul(down).Dispose();
            }
        });
        double loraFlops = c.LayerCount * 4.0 * tokens * C * lora;
        double loras = Time(device, repeats, () =>
        {
            for (int layer = 0; layer < c.LayerCount; layer++)
            {
                x.matmul(loraDown).Dispose();
                loraHidden.matmul(loraUp).Dispose();
            }
        });

        var wkv = new Wkv7(options.ChunkLength, tensorFloat32: dtype != ScalarType.Float32, kernels);
        Tensor Input() => randn([1, tokens, H, N], ScalarType.Float32, device) * 0.1;
        var (r, k, v) = (Input(), Input(), Input());
        var logW = -rand([1, tokens, H, N], ScalarType.Float32, device) * 0.6 - 0.01;
        var kk = nn.functional.normalize(Input(), p: 2, dim: -1);
        var (a, b) = (-kk, kk * 0.5);
        var state = zeros([1, H, N, N], ScalarType.Float32, device);
        double wkvFlops = c.LayerCount * 2.0 * tokens * 4.0 * C * N;
        double wkvMs = Time(device, repeats, () =>
        {
            for (int layer = 0; layer < c.LayerCount; layer++)
                wkv.Forward(r, logW, k, v, a, b, state).Dispose();
        });

        var head = randn([C, c.VocabSize], dtype, device) * 0.02;
        double headMs = Time(device, repeats, () => x.narrow(0, tokens - 1, 1).matmul(head).Dispose());

        return
        [
            new("projections (r,k,v,o,ffn)", projections, projectionFlops / projections / 1e9),
            new("loras (w,a,v,g)", loras, loraFlops / loras / 1e9),
            new(kernels is null ? "wkv (chunked)" : "wkv (Rag's CUDA scan)", wkvMs, wkvFlops / wkvMs / 1e9),
            new("head (last position)", headMs, 2.0 * C * c.VocabSize / headMs / 1e9),
        ];
    }

    private static double Time(Device device, int repeats, Action body)
    {
        body();
        GeneratorBenchmark.Synchronize(device);
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            body();
            GeneratorBenchmark.Synchronize(device);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
