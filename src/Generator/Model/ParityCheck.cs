using Rag.Generator.Checkpoints;
using static TorchSharp.torch;

namespace Rag.Generator.Model;

/// <summary>
/// One case of a parity check: the worst position's max |Δlogit| relative to that position's max |logit|, and the
/// fraction of positions whose most likely next token is the reference's.
/// </summary>
public sealed record ParityResult(string Case, long Batch, long Tokens, double MaxRelativeError, double Top1Agreement);

/// <summary>
/// Compares a model's logits at every position with reference logits stored in a safetensors file holding
/// <c>&lt;case&gt;.tokens</c> ([T] or [B, T], int64) and <c>&lt;case&gt;.logits</c> ([T, V] or [B, T, V]).
/// </summary>
public static class ParityCheck
{
    public static IReadOnlyList<ParityResult> Run(Rwkv7Model model, string expectedPath)
    {
        var expected = SafeTensors.Load(expectedPath);
        try
        {
            var cases = expected.Keys.Where(k => k.EndsWith(".tokens", StringComparison.Ordinal))
                .Select(k => k[..^".tokens".Length]).Order(StringComparer.Ordinal).ToList();
            if (cases.Count == 0)
                throw new CheckpointFormatException(expectedPath, "holds no '<case>.tokens' tensors to check against");
            return cases.SelectMany(name => RunCase(model, name, expected, expectedPath)).ToList();
        }
        finally
        {
            foreach (var t in expected.Values) t.Dispose();
        }
    }

    /// <summary>
    /// The case read whole (every position's logits from one prefill) and, when it has two tokens or more, again as
    /// a generator reads it: the first half prefilled, then one token per step (case "NAME decode"), which is the
    /// path decoding takes.
    /// </summary>
    private static IEnumerable<ParityResult> RunCase(Rwkv7Model model, string name, Dictionary<string, Tensor> expected, string path)
    {
        if (!expected.TryGetValue(name + ".logits", out var logits))
            throw new CheckpointFormatException(path, $"has '{name}.tokens' but no '{name}.logits'");
        using var scope = NewDisposeScope();
        var tokens = expected[name + ".tokens"];
        if (tokens.dim() == 1) (tokens, logits) = (tokens.unsqueeze(0), logits.unsqueeze(0));
        if (tokens.dim() != 2 || logits.dim() != 3 || !logits.shape[..2].SequenceEqual(tokens.shape) || logits.shape[2] != model.VocabSize)
            throw new CheckpointFormatException(path,
                $"case '{name}' has tokens [{string.Join(", ", tokens.shape)}] and logits [{string.Join(", ", logits.shape)}]; expected [B, T] and [B, T, {model.VocabSize}]");
        long batch = tokens.shape[0], T = tokens.shape[1];
        using (var state = model.CreateState((int)batch))
            yield return Compare(name, batch, T, model.ForwardAll(tokens, state).cpu(), logits);
        if (T < 2) yield break;
        yield return Decode(model, name + " decode", tokens, logits);
        // A batch case also decodes as a batch of 16 or more rows (its rows repeated): the width at which the CUDA
        // decode step moves its projections to cuBLAS and the tensor cores.
        if (batch > 1 && batch < BatchedRows)
        {
            long repeats = (BatchedRows + batch - 1) / batch;
            yield return Decode(model, $"{name} decode ×{repeats}", tokens.repeat(repeats, 1), logits.repeat(repeats, 1, 1));
        }
    }

    private const long BatchedRows = 16;

    /// <summary>The first half prefilled, then one token per step; compared from the last prefilled position on.</summary>
    private static ParityResult Decode(Rwkv7Model model, string name, Tensor tokens, Tensor logits)
    {
        using var scope = NewDisposeScope();
        long batch = tokens.shape[0], T = tokens.shape[1], prefix = T / 2;
        using var state = model.CreateState((int)batch);
        var steps = new List<Tensor> { model.Forward(tokens.narrow(1, 0, prefix), state) };
        for (long t = prefix; t < T; t++) steps.Add(model.Forward(tokens.narrow(1, t, 1).contiguous(), state));
        return Compare(name, batch, T, stack(steps, 1).cpu(), logits.narrow(1, prefix - 1, T - prefix + 1));
    }

    private static ParityResult Compare(string name, long batch, long tokens, Tensor actual, Tensor expected)
    {
        var top1 = actual.argmax(-1).eq(expected.argmax(-1)).to(ScalarType.Float32).mean().item<float>();
        return new ParityResult(name, batch, tokens, MaxRelativeError(actual, expected), top1);
    }

    /// <summary>max over positions of max_v |actual - expected| / max_v |expected|, for [..., V] logits.</summary>
    public static double MaxRelativeError(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        var difference = (actual.to(ScalarType.Float32) - expected.to(ScalarType.Float32)).abs().amax([-1]);
        var scale = expected.to(ScalarType.Float32).abs().amax([-1]).clamp_min(1e-30);
        return (difference / scale).max().item<float>();
    }
}
