using Rag.Generator.Generation;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Tests;

public class SamplerTests
{
    private static readonly Dictionary<int, double> NoCounts = [];

    /// <summary>Successive draws of one sequence, each a batch of one row.</summary>
    private static int[] Draw(SamplingOptions options, float[] logits, int draws, IReadOnlyDictionary<int, double>? counts = null)
    {
        var sampler = new Sampler(options);
        using var x = torch.tensor(logits, [1, logits.Length]);
        return Enumerable.Range(0, draws).Select(_ => Sample(x, new SamplingRow(sampler, counts ?? NoCounts))[0]).ToArray();
    }

    private static int[] Sample(Tensor logits, params SamplingRow[] rows)
    {
        using var draw = BatchDraw.Prepare(rows, (int)logits.shape[1], logits.device);
        return draw.Sample(logits);
    }

    private static float[] RandomLogits(int size, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, size).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
    }

    private static float[] LogProbabilities(params double[] probabilities) => probabilities.Select(p => (float)Math.Log(p)).ToArray();

    [Fact]
    public void Temperature_zero_takes_the_argmax()
    {
        var logits = RandomLogits(1000, seed: 3);
        var argmax = Array.IndexOf(logits, logits.Max());
        Assert.All(Draw(new SamplingOptions { Temperature = 0 }, logits, 3), t => Assert.Equal(argmax, t));
    }

    [Fact]
    public void Tiny_temperature_behaves_like_greedy()
    {
        var logits = RandomLogits(1000, seed: 4);
        var argmax = Array.IndexOf(logits, logits.Max());
        Assert.All(Draw(new SamplingOptions { Temperature = 1e-12, Seed = 1 }, logits, 5), t => Assert.Equal(argmax, t));
    }

    [Fact]
    public void Logits_of_another_shape_than_the_rows_are_refused()
    {
        var row = new SamplingRow(new Sampler(new SamplingOptions { Temperature = 0 }), NoCounts);
        using var draw = BatchDraw.Prepare([row, row], 3, torch.CPU);
        using var oneRow = torch.tensor(new float[] { 0, 2, 1 }, [1, 3]);
        using var vector = torch.tensor(new float[] { 0, 2, 1, 0, 2, 1 });
        Assert.Contains("[2, 3], not [1, 3]", Assert.Throws<ArgumentException>(() => draw.Sample(oneRow)).Message);
        Assert.Contains("[2, 3], not [6]", Assert.Throws<ArgumentException>(() => draw.Sample(vector)).Message);
    }

    [Fact]
    public void Top_k_draws_only_the_k_most_likely()
    {
        var logits = RandomLogits(50, seed: 5);
        var top3 = logits.Select((l, i) => (l, i)).OrderByDescending(p => p.l).Take(3).Select(p => p.i).ToHashSet();
        var drawn = Draw(new SamplingOptions { TopK = 3, Temperature = 5, Seed = 1 }, logits, 300);
        Assert.Subset(top3, drawn.ToHashSet());
        Assert.Equal(3, drawn.Distinct().Count());  // sampling, not greedy
    }

    [Fact]
    public void Top_p_draws_only_from_the_nucleus()
    {
        // Probability mass before each token: 0, 0.5, 0.8, 0.95 -> top-p 0.85 keeps the first three.
        var logits = LogProbabilities(0.5, 0.3, 0.15, 0.05);
        var drawn = Draw(new SamplingOptions { TopP = 0.85, Seed = 2 }, logits, 400);
        Assert.Equal([0, 1, 2], drawn.Distinct().Order());
        var unrestricted = Draw(new SamplingOptions { TopP = 1, Seed = 2 }, logits, 400);
        Assert.Contains(3, unrestricted);
    }

    [Fact]
    public void Same_seed_repeats_the_draws_and_another_seed_does_not()
    {
        var logits = RandomLogits(1000, seed: 7);
        var first = Draw(new SamplingOptions { Seed = 42 }, logits, 50);
        Assert.Equal(first, Draw(new SamplingOptions { Seed = 42 }, logits, 50));
        Assert.NotEqual(first, Draw(new SamplingOptions { Seed = 43 }, logits, 50));
    }

    [Theory]
    // logits 5.0 vs 4.9: token 0 wins unless its penalty exceeds 0.1.
    [InlineData(0.2, 0.0, 1, 1)]   // presence: -0.2 once
    [InlineData(0.0, 0.05, 1, 0)]  // frequency: -0.05 x 1
    [InlineData(0.0, 0.05, 3, 1)]  // frequency: -0.05 x 3
    [InlineData(-0.5, 0.0, 1, 0)]  // a negative penalty favours the token
    public void Penalties_lower_the_logits_of_generated_tokens(double presence, double frequency, int count, int expected)
    {
        var options = new SamplingOptions { Temperature = 0, PresencePenalty = presence, FrequencyPenalty = frequency };
        Assert.Equal(expected, Draw(options, [5.0f, 4.9f, 0f], 1, new Dictionary<int, double> { [0] = count })[0]);
    }

    [Fact]
    public void Penalties_shift_the_sampled_distribution()
    {
        var logits = new float[] { 0, 0 };
        var counts = new Dictionary<int, double> { [0] = 2 };
        var options = new SamplingOptions { Seed = 9, FrequencyPenalty = 1 };  // p(0) = 1 / (1 + e^2) ~ 0.12
        var zeros = Draw(options, logits, 500, counts).Count(t => t == 0);
        Assert.InRange(zeros, 25, 100);
    }

    public static TheoryData<SamplingOptions> EveryOption => new()
    {
        new SamplingOptions { Temperature = 0 },
        new SamplingOptions { Seed = 1 },
        new SamplingOptions { Temperature = 0.7, TopP = 0.9, Seed = 7 },
        new SamplingOptions { TopK = 5, Seed = 2 },
        new SamplingOptions { TopP = 0.3, PresencePenalty = 0.5, FrequencyPenalty = 0.5, Seed = 3 },
    };

    // The CUDA crash of `rag ask` (a CPU random generator handed to multinomial on CUDA probabilities) in a form a
    // CPU-only machine can run: the meta device has no data and no generator, so every step of the choice must be
    // a tensor operation on the logits' own device.
    [Theory]
    [MemberData(nameof(EveryOption))]
    public void The_choice_is_made_on_the_logits_device(SamplingOptions options) => AssertChosenOnTheMetaDevice(options);

    [Fact]
    public void The_choice_for_a_batch_of_every_option_is_made_on_the_logits_device() =>
        AssertChosenOnTheMetaDevice([.. EveryOption.Select((object[] row) => (SamplingOptions)row[0])]);

    private static void AssertChosenOnTheMetaDevice(params SamplingOptions[] options)
    {
        using var scope = torch.NewDisposeScope();
        var meta = new torch.Device("meta");
        var logits = torch.randn(options.Length, 1000, device: meta);
        var counts = new Dictionary<int, double> { [3] = 2 };
        using var draw = BatchDraw.Prepare([.. options.Select(o => new SamplingRow(new Sampler(o), counts))], 1000, meta);
        var choice = draw.Choose(logits);
        Assert.Equal(DeviceType.META, choice.device.type);
        Assert.Equal(ScalarType.Int64, choice.dtype);
        Assert.Equal([options.Length], choice.shape);
    }

    /// <summary>Rows of every kind, mixed in one batch: each with its own settings, seed and generated tokens.</summary>
    private static readonly (SamplingOptions Options, Dictionary<int, double> Counts)[] MixedRows =
    [
        (new SamplingOptions { Temperature = 0 }, []),
        (new SamplingOptions { Temperature = 0, FrequencyPenalty = 2, PresencePenalty = 0.5 }, new() { [11] = 1, [500] = 2.5 }),
        (new SamplingOptions { Seed = 1 }, []),
        (new SamplingOptions { Temperature = 0.7, Seed = 2 }, new() { [3] = 1 }),
        (new SamplingOptions { TopK = 5, Seed = 3 }, []),
        (new SamplingOptions { Temperature = 1.5, TopK = 40, TopP = 0.6, Seed = 4 }, []),
        (new SamplingOptions { TopP = 0.3, PresencePenalty = 0.5, FrequencyPenalty = 0.5, Seed = 5 }, new() { [1] = 1, [7] = 3, [42] = 0.5 }),
        (new SamplingOptions { Temperature = 1e-12, Seed = 6 }, []),
        (new SamplingOptions { TopK = 2000, TopP = 0.9, Seed = 5 }, []),  // top-k beyond the vocabulary: off
    ];

    [Fact]
    public void Every_row_of_a_batch_picks_what_it_picks_alone()
    {
        const int vocab = 1000, steps = 30;
        SamplingRow[] Rows() => [.. MixedRows.Select(r => new SamplingRow(new Sampler(r.Options), r.Counts))];
        var batchedRows = Rows();
        var aloneRows = Rows();  // the same settings and seeds, drawn one row at a time
        var random = new Random(17);
        var differs = new int[MixedRows.Length];  // steps in which a row did not pick its argmax
        for (int step = 0; step < steps; step++)
        {
            var values = Enumerable.Range(0, MixedRows.Length).Select(_ => RandomLogits(vocab, random.Next())).ToArray();
            using var logits = torch.tensor(values.SelectMany(v => v).ToArray(), [MixedRows.Length, vocab]);
            var batched = Sample(logits, batchedRows);
            var alone = aloneRows.Select((row, i) =>
            {
                using var own = logits.narrow(0, i, 1);
                return Sample(own, row)[0];
            }).ToArray();
            Assert.Equal(alone, batched);
            for (int row = 0; row < MixedRows.Length; row++)
                if (batched[row] != PenalisedArgmax(values[row], MixedRows[row].Options, MixedRows[row].Counts)) differs[row]++;
        }
        for (int row = 0; row < MixedRows.Length; row++)
        {
            // Greedy and near-greedy rows always take the penalised argmax; the others really sample.
            if (MixedRows[row].Options.Temperature < 1e-6) Assert.Equal(0, differs[row]);
            else Assert.True(differs[row] > steps / 3, $"row {row} took its argmax in {steps - differs[row]} of {steps} steps");
        }
    }

    private static int PenalisedArgmax(float[] logits, SamplingOptions options, IReadOnlyDictionary<int, double> counts)
    {
        var penalised = logits.Select((l, id) => counts.TryGetValue(id, out var n) ? l - (float)(options.PresencePenalty + options.FrequencyPenalty * n) : l).ToArray();
        return Array.IndexOf(penalised, penalised.Max());
    }

    [Fact]
    public void Draws_follow_the_distribution()
    {
        var logits = LogProbabilities(0.6, 0.3, 0.1);
        var drawn = Draw(new SamplingOptions { Seed = 11 }, logits, 2000);
        Assert.InRange(drawn.Count(t => t == 0), 1100, 1300);
        Assert.InRange(drawn.Count(t => t == 2), 140, 260);
    }

    [Theory]
    [InlineData(nameof(SamplingOptions.Temperature))]
    [InlineData(nameof(SamplingOptions.TopP))]
    [InlineData(nameof(SamplingOptions.TopK))]
    [InlineData(nameof(SamplingOptions.PresencePenalty))]
    [InlineData(nameof(SamplingOptions.FrequencyPenalty))]
    [InlineData(nameof(SamplingOptions.MaxTokens))]
    [InlineData(nameof(SamplingOptions.StopSequences))]
    public void Invalid_option_is_named(string option)
    {
        var options = option switch
        {
            nameof(SamplingOptions.Temperature) => new SamplingOptions { Temperature = -0.5 },
            nameof(SamplingOptions.TopP) => new SamplingOptions { TopP = 0 },
            nameof(SamplingOptions.TopK) => new SamplingOptions { TopK = -1 },
            nameof(SamplingOptions.PresencePenalty) => new SamplingOptions { PresencePenalty = 3 },
            nameof(SamplingOptions.FrequencyPenalty) => new SamplingOptions { FrequencyPenalty = double.NaN },
            nameof(SamplingOptions.MaxTokens) => new SamplingOptions { MaxTokens = 0 },
            _ => new SamplingOptions { StopSequences = ["ok", ""] },
        };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(options));
        Assert.Equal(option, e.ParamName);
        Assert.Contains(option, e.Message);
    }
}
