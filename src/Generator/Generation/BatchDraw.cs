using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Generation;

/// <summary>One batch row to sample: its sampler and how often each token was generated so far, decayed by
/// <see cref="SamplingOptions.PenaltyDecay"/> (for the penalties).</summary>
public readonly record struct SamplingRow(Sampler Sampler, IReadOnlyDictionary<int, double> TokenCounts);

/// <summary>
/// The next token of every row of a batch, each row by its own settings, picked from logits [B, V] with a few
/// tensor operations for the whole batch on the logits' own device, CPU or CUDA. The rows' settings, penalties
/// and uniform numbers go to the device in one upload (two tensors), which <see cref="Prepare"/> makes before the
/// forward, so that a step waits for the device only once: when its ids are read back.
/// </summary>
/// <remarks>
/// Per row, as <see cref="SamplingOptions"/> says: penalties, then greedy (argmax) or temperature, top-k, top-p and
/// an inverse-CDF draw with the row's next uniform number. No random generator is bound to a device (libtorch's
/// generators are per device, and TorchSharp only makes CPU ones), so a given seed repeats a run on the same
/// device, and each row's numbers depend on that row alone: a row picks the same token alone or in any batch.
/// </remarks>
public sealed class BatchDraw : IDisposable
{
    private const float SmallestNormalFloat = 1.17549435e-38f;

    private readonly int _batch, _vocabSize, _penaltyCount, _topKMax;
    private readonly bool _anyGreedy, _anySampled, _anyTopP;

    // Device copies. _settings: temperature [B] (0 = greedy), top-p [B] (2 = off), uniform [B], penalty [P];
    // _indices: top-k index k-1 [B] (-1 = off), flat logit index row * V + id [P]. Null when not needed.
    private readonly Tensor? _settings, _indices;

    private BatchDraw(int batch, int vocabSize, int penaltyCount, int topKMax, bool anyGreedy, bool anySampled, bool anyTopP, Tensor? settings, Tensor? indices)
    {
        (_batch, _vocabSize, _penaltyCount, _topKMax) = (batch, vocabSize, penaltyCount, topKMax);
        (_anyGreedy, _anySampled, _anyTopP) = (anyGreedy, anySampled, anyTopP);
        (_settings, _indices) = (settings, indices);
    }

    /// <summary>Takes each sampled row's next uniform number and puts the rows' settings on <paramref name="device"/>.</summary>
    public static BatchDraw Prepare(IReadOnlyList<SamplingRow> rows, int vocabSize, Device device)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfZero(rows.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        int batch = rows.Count, topKMax = 0;
        bool anyGreedy = false, anySampled = false, anyTopP = false;
        var temperature = new float[batch];
        var topP = new float[batch];
        var uniform = new float[batch];
        var topKIndex = new long[batch];
        var penalty = new List<float>();
        var penaltyIndex = new List<long>();
        for (int row = 0; row < batch; row++)
        {
            var (sampler, counts) = rows[row];
            ArgumentNullException.ThrowIfNull(sampler);
            ArgumentNullException.ThrowIfNull(counts);
            var options = sampler.Options;
            topP[row] = 2;  // a mass below 2 keeps every token
            topKIndex[row] = -1;
            if (options.IsGreedy)
            {
                anyGreedy = true;
            }
            else
            {
                anySampled = true;
                // 0 marks greedy rows; a temperature below float's range still behaves like greedy instead of dividing by 0.
                temperature[row] = Math.Max((float)options.Temperature, SmallestNormalFloat);
                if (options.TopK > 0 && options.TopK < vocabSize)
                {
                    topKIndex[row] = options.TopK - 1;
                    topKMax = Math.Max(topKMax, options.TopK);
                }
                if (options.TopP < 1)
                {
                    topP[row] = (float)options.TopP;
                    anyTopP = true;
                }
                uniform[row] = (float)sampler.NextUniform();
            }
            if (options.PresencePenalty == 0 && options.FrequencyPenalty == 0) continue;
            // logit[id] -= presence * (count > 0) + frequency * count, for the tokens generated so far
            foreach (var (id, count) in counts)
            {
                penaltyIndex.Add((long)row * vocabSize + id);
                penalty.Add((float)(options.PresencePenalty + options.FrequencyPenalty * count));
            }
        }
        float[] settings = [.. temperature, .. topP, .. uniform, .. penalty];
        long[] indices = [.. topKIndex, .. penaltyIndex];
        return new BatchDraw(batch, vocabSize, penalty.Count, topKMax, anyGreedy, anySampled, anyTopP,
            anySampled || penalty.Count > 0 ? torch.tensor(settings, device: device) : null,
            topKMax > 0 || penalty.Count > 0 ? torch.tensor(indices, device: device) : null);
    }

    /// <summary>Each row's token, read back to the host: the step's one wait for the device.</summary>
    /// <param name="logits">[B, V] of any floating type; not modified.</param>
    public int[] Sample(Tensor logits)
    {
        using var scope = torch.NewDisposeScope();
        return [.. Choose(logits).cpu().data<long>().Select(id => (int)id)];
    }

    /// <summary>Each row's token as int64 [B] on the logits' device (no host round trip).</summary>
    /// <param name="logits">[B, V] of any floating type; not modified.</param>
    public Tensor Choose(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.dim() != 2 || logits.shape[0] != _batch || logits.shape[1] != _vocabSize)
            throw new ArgumentException($"Logits must be [{_batch}, {_vocabSize}], not [{string.Join(", ", logits.shape)}].", nameof(logits));
        var x = logits.to(ScalarType.Float32);
        if (_penaltyCount > 0)
        {
            // Held to the end of the call: a temporary Scalar may be finalized while libtorch still reads it (seen as a
            // sporadic "toFloat" failure under test load).
            using Scalar minusOne = -1;
            x = x.reshape(-1).index_add(0, _indices!.narrow(0, _batch, _penaltyCount), _settings!.narrow(0, 3 * _batch, _penaltyCount), minusOne).reshape(_batch, _vocabSize);
        }
        var greedyChoice = _anyGreedy ? x.argmax(1) : null;
        if (!_anySampled) return greedyChoice!;

        var temperature = _settings!.narrow(0, 0, _batch).unsqueeze(1);
        var greedy = _anyGreedy ? temperature.eq(0) : null;
        // Greedy rows take the argmax; here they only need numbers that are not NaN.
        if (greedy is not null) temperature = temperature.masked_fill(greedy, 1);
        x = (x - x.amax([1], keepdim: true)) / temperature;  // shifting first keeps tiny temperatures from making inf - inf
        if (_topKMax > 0) x = KeepTopK(x, _indices!.narrow(0, 0, _batch).unsqueeze(1), _topKMax);
        var probs = torch.softmax(x, 1);
        if (_anyTopP) probs = KeepTopP(probs, _settings.narrow(0, _batch, _batch).unsqueeze(1));
        var drawn = Draw(probs, _settings.narrow(0, 2 * _batch, _batch).unsqueeze(1));
        if (greedy is null) return drawn;
        // where(greedy, greedyChoice, drawn), in arithmetic: where has no meta-device kernel (the device tests use meta).
        return drawn + (greedyChoice! - drawn) * greedy.squeeze(1);
    }

    // Keeps each row's k most likely tokens (ties with the k-th stay too); rows with index -1 keep all.
    private static Tensor KeepTopK(Tensor x, Tensor kIndex, int kMax)
    {
        var kth = x.topk(kMax, dim: 1).values.gather(1, kIndex.clamp_min(0)).masked_fill(kIndex < 0, float.NegativeInfinity);
        return x.masked_fill(x < kth, float.NegativeInfinity);
    }

    // Keeps each row's smallest set of most likely tokens whose mass reaches p (ties with the last kept token stay
    // too); p = 2 keeps all. Stays on the device: the last kept probability is gathered at index (count - 1).
    private static Tensor KeepTopP(Tensor probs, Tensor p)
    {
        var sorted = probs.sort(dim: 1, descending: true).Values;
        var massBefore = sorted.cumsum(1) - sorted;  // probability of all more likely tokens
        var kept = (massBefore < p).sum(1, keepdim: true);
        var smallestKept = sorted.gather(1, kept - 1);
        return probs.masked_fill(probs < smallestKept, 0);
    }

    /// <summary>
    /// Inverse-CDF draw per row: the first token whose cumulative probability exceeds u·total. Unnormalised rows
    /// are fine (total is the last cumulative value); the result is clamped so rounding at the top end stays in range.
    /// </summary>
    private static Tensor Draw(Tensor probs, Tensor u)
    {
        long last = probs.shape[1] - 1;
        var cdf = probs.cumsum(1);
        var threshold = cdf.narrow(1, last, 1) * u;
        return (cdf <= threshold).sum(1).clamp_max(last);
    }

    public void Dispose()
    {
        _settings?.Dispose();
        _indices?.Dispose();
    }
}
