using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Generation;

/// <summary>
/// Picks the next token from a logits vector [V] (or [1, V]) on the logits' own device, CPU or CUDA.
/// Draws come from a seeded <see cref="torch.Generator"/> on that device, so a given seed repeats a run
/// on the same device.
/// </summary>
public sealed class Sampler : IDisposable
{
    private readonly SamplingOptions _options;
    private readonly ulong _seed;
    private torch.Generator? _generator;

    public Sampler(SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _seed = options.Seed is { } seed ? unchecked((ulong)seed) : (ulong)Random.Shared.NextInt64();
    }

    /// <summary>Returns the chosen token id.</summary>
    /// <param name="logits">[V] or [1, V]; not modified.</param>
    /// <param name="tokenCounts">How often each token was generated so far, decayed by <see cref="SamplingOptions.PenaltyDecay"/> (for the penalties).</param>
    public int Sample(Tensor logits, IReadOnlyDictionary<int, double> tokenCounts)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(tokenCounts);
        // Created before the dispose scope: the generator lives as long as the sampler, not one call.
        _generator ??= _options.IsGreedy ? null : new torch.Generator(_seed, logits.device);
        using var scope = torch.NewDisposeScope();
        var x = logits.to(ScalarType.Float32).reshape(-1);  // [V]
        x = ApplyPenalties(x, tokenCounts);
        if (_options.IsGreedy) return (int)x.argmax().item<long>();

        x = (x - x.max()) / _options.Temperature;  // shifting first keeps tiny temperatures from making inf - inf
        if (_options.TopK > 0 && _options.TopK < x.shape[0]) x = KeepTopK(x, _options.TopK);
        var probs = torch.softmax(x, 0);
        if (_options.TopP < 1) probs = KeepTopP(probs, _options.TopP);

        return (int)torch.multinomial(probs, 1, generator: _generator).item<long>();
    }

    // logit[j] -= presence * (count[j] > 0) + frequency * count[j]
    private Tensor ApplyPenalties(Tensor x, IReadOnlyDictionary<int, double> tokenCounts)
    {
        if (tokenCounts.Count == 0 || (_options.PresencePenalty == 0 && _options.FrequencyPenalty == 0)) return x;
        var ids = tokenCounts.Keys.Select(id => (long)id).ToArray();
        var penalties = tokenCounts.Values.Select(n => (float)(_options.PresencePenalty + _options.FrequencyPenalty * n)).ToArray();
        return x.index_add(0, torch.tensor(ids, device: x.device), torch.tensor(penalties, device: x.device), alpha: -1);
    }

    private static Tensor KeepTopK(Tensor x, int k)
    {
        var kth = x.topk(k).values[k - 1];
        return x.masked_fill(x < kth, float.NegativeInfinity);
    }

    // Keeps the smallest set of most likely tokens whose mass reaches p (ties with the last kept token stay too).
    private static Tensor KeepTopP(Tensor probs, double p)
    {
        var sorted = probs.sort(descending: true).Values;
        var massBefore = sorted.cumsum(0) - sorted;  // probability of all more likely tokens
        var kept = (massBefore < p).sum().item<long>();
        var smallestKept = sorted[kept - 1];
        return probs.masked_fill(probs < smallestKept, 0);
    }

    public void Dispose() => _generator?.Dispose();
}
