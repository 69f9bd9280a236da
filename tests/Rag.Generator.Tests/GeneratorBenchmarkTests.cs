using Rag.Generator.Generation;
using Rag.Generator.Benchmarks;
using Rag.Generator.Model;
using static TorchSharp.torch;

namespace Rag.Generator.Tests;

/// <summary>CPU smoke run of the generator benchmark at the tiny shape: table shape and finite numbers, no timing goals.</summary>
public class GeneratorBenchmarkTests
{
    private static readonly Rwkv7Config Tiny = Rwkv7Config.Published["tiny"];

    [Fact]
    public void Rwkv_and_softmax_rows_cover_every_passage_count_and_decode_batch()
    {
        var settings = new GeneratorBenchmarkSettings([1, 3], PassageTokens: 16, Repeats: 1, DecodeBatches: [1, 2], DecodeSteps: 2);
        var bench = new GeneratorBenchmark(settings);
        var subjects = new[]
        {
            new BenchmarkSubject("rwkv7", () => Rwkv7Model.CreateRandom(Tiny, "cpu", "fp32", seed: 1),
                t => FlopCount.Rwkv7Prefill(Tiny.LayerCount, Tiny.EmbeddingSize, Tiny.HeadSize, Tiny.FfnSize, Tiny.VocabSize,
                    Tiny.DecayLoraRank, Tiny.LearningRateLoraRank, Tiny.ValueLoraRank, Tiny.GateLoraRank, t)),
            new BenchmarkSubject("softmax", () => new SoftmaxTransformer(Tiny.LayerCount, Tiny.EmbeddingSize, Tiny.HeadSize, Tiny.VocabSize, CPU, ScalarType.Float32, seed: 1),
                t => FlopCount.SoftmaxPrefill(Tiny.LayerCount, Tiny.EmbeddingSize, Tiny.VocabSize, t)),
        };

        var rows = subjects.SelectMany(bench.Run).ToList();

        Assert.Equal(["rwkv7", "rwkv7", "softmax", "softmax"], rows.Select(r => r.Model));
        Assert.Equal([1, 3, 1, 3], rows.Select(r => r.Passages));
        Assert.All(rows, r =>
        {
            Assert.Null(r.Error);
            Assert.Equal(r.Passages * 16L, r.PromptTokens);
            Assert.All(new[] { r.PrefillMs, r.TokensPerSecond, r.MsPerPassage, r.Tflops }, v => Assert.True(v is > 0 && double.IsFinite(v.Value)));
            Assert.Equal([1, 2], r.Decode.Select(d => d.Batch));
            Assert.All(r.Decode, d => Assert.True(d.MsPerStep is > 0 && double.IsFinite(d.MsPerStep.Value)));
        });
    }

    [Fact]
    public void Expanded_state_continues_every_sequence_like_the_original()
    {
        using var model = Rwkv7Model.CreateRandom(Tiny, "cpu", "fp32", seed: 3);
        using var prompt = tensor(new long[] { 5, 9, 200, 17 }, [1, 4]);
        using var next = tensor(new long[] { 42 }, [1, 1]);
        using var state = model.CreateState();
        model.Forward(prompt, state).Dispose();

        using var expanded = state.Expand(3);
        using var single = model.Forward(next, state);
        using var nextForEach = next.expand(3, 1);
        using var batch = model.Forward(nextForEach, expanded);

        for (int i = 0; i < 3; i++)
        {
            using var row = batch[i];
            using var expected = single[0];
            Assert.True(allclose(row, expected, rtol: 1e-5, atol: 1e-5));
        }
    }

    [Fact]
    public void Breakdown_reports_every_stage_with_finite_times()
    {
        var options = new GeneratorOptions { Device = "cpu", Dtype = "fp32", ChunkLength = 16 };
        var stages = PrefillBreakdown.Measure(Tiny, options, tokens: 64, repeats: 1);

        Assert.Equal(["projections (r,k,v,o,ffn)", "loras (w,a,v,g)", "wkv (chunked)", "head (last position)"], stages.Select(s => s.Stage));
        Assert.All(stages, s => Assert.True(s.Milliseconds > 0 && double.IsFinite(s.Tflops)));
    }
}
