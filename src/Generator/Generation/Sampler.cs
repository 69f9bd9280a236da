using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Generation;

/// <summary>
/// Picks the next token from a logits vector [V] (or [1, V]) with tensor operations on the logits' own device,
/// CPU or CUDA. The only randomness is one uniform number per draw from a seeded host generator, turned into a
/// token by inverse-CDF lookup on the device: no random generator is bound to a device (libtorch's generators
/// are per device, and TorchSharp only makes CPU ones), and a given seed repeats a run on the same device.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Random _uniform;

    public Sampler(SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _uniform = options.Seed is { } seed ? new Random(unchecked((int)seed ^ (int)(seed >> 32))) : new Random();
    }

    /// <summary>Returns the chosen token id.</summary>
    /// <param name="logits">[V] or [1, V]; not modified.</param>
    /// <param name="tokenCounts">How often each token was generated so far (for the penalties).</param>
    public int Sample(Tensor logits, IReadOnlyDictionary<int, int> tokenCounts)
    {
        using var scope = torch.NewDisposeScope();
        return (int)Choose(logits, tokenCounts).item<long>();
    }

    /// <summary>The chosen token id as a 0-d int64 tensor on the logits' device (no host round trip).</summary>
    public Tensor Choose(Tensor logits, IReadOnlyDictionary<int, int> tokenCounts)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(tokenCounts);
        var x = logits.to(ScalarType.Float32).reshape(-1);  // [V]
        x = ApplyPenalties(x, tokenCounts);
        if (_options.IsGreedy) return x.argmax();

        x = (x - x.amax([0], keepdim: true)) / _options.Temperature;  // shifting first keeps tiny temperatures from making inf - inf
        if (_options.TopK > 0 && _options.TopK < x.shape[0]) x = KeepTopK(x, _options.TopK);
        var probs = torch.softmax(x, 0);
        if (_options.TopP < 1) probs = KeepTopP(probs, _options.TopP);
        return Draw(probs, _uniform.NextDouble());
    }

    // logit[j] -= presence * (count[j] > 0) + frequency * count[j]
    private Tensor ApplyPenalties(Tensor x, IReadOnlyDictionary<int, int> tokenCounts)
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
    // Stays on the device: the last kept probability is gathered at index (count - 1), never read back.
    private static Tensor KeepTopP(Tensor probs, double p)
    {
        var sorted = probs.sort(descending: true).Values;
        var massBefore = sorted.cumsum(0) - sorted;  // probability of all more likely tokens
        var kept = (massBefore < p).sum(0, keepdim: true);
        var smallestKept = sorted.gather(0, kept - 1);
        return probs.masked_fill(probs < smallestKept, 0);
    }

    /// <summary>
    /// Inverse-CDF draw: the first token whose cumulative probability exceeds u·total. Unnormalised input is
    /// fine (total is the last cumulative value); the result is clamped so rounding at the top end stays in range.
    /// </summary>
    private static Tensor Draw(Tensor probs, double u)
    {
        var cdf = probs.cumsum(0);
        var threshold = cdf.narrow(0, cdf.shape[0] - 1, 1) * u;
        return (cdf <= threshold).sum().clamp_max(probs.shape[0] - 1);
    }
}
