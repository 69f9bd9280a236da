using Rag.Generator.Checkpoints;
using static TorchSharp.torch;

namespace Rag.Generator.Model;

/// <summary>
/// The shape of an RWKV-7 (x070) model. Names follow the reference: n_layer, C = n_embd, N = head size,
/// H = C / N heads, and the LoRA ranks of the decay (w1), in-context learning rate (a1), value residual (v1)
/// and gate (g1) projections.
/// </summary>
public sealed record Rwkv7Config(
    int LayerCount,
    int EmbeddingSize,
    int HeadSize,
    int VocabSize,
    int FfnSize,
    int DecayLoraRank,
    int LearningRateLoraRank,
    int ValueLoraRank,
    int GateLoraRank)
{
    public int HeadCount => EmbeddingSize / HeadSize;

    /// <summary>Parameters of every tensor the model uses (the folded-in ln0 counted once).</summary>
    public long ParameterCount => ExpectedShapes().Sum(e => e.Shape.Aggregate(1L, (a, b) => a * b));

    /// <summary>
    /// Bytes the loaded model's weights take on its device in <paramref name="dtype"/>: ln0 is folded into the
    /// embedding, and r_k and the WKV output norm are kept in fp32.
    /// </summary>
    public long WeightBytes(ScalarType dtype)
    {
        int size = dtype == ScalarType.Float32 ? 4 : 2;
        return ExpectedShapes()
            .Where(e => !e.Key.StartsWith("blocks.0.ln0.", StringComparison.Ordinal))
            .Sum(e => e.Shape.Aggregate(1L, (a, b) => a * b) * (e.Key.EndsWith("att.r_k", StringComparison.Ordinal) || e.Key.Contains(".att.ln_x.") ? 4 : size));
    }

    /// <summary>Every tensor the model reads, with its shape (ln0 may be absent: see <see cref="Validate"/>).</summary>
    public IEnumerable<(string Key, long[] Shape)> ExpectedShapes()
    {
        long c = EmbeddingSize;
        long[] vector = [c], mix = [1, 1, c];
        yield return ("emb.weight", [VocabSize, c]);
        yield return ("blocks.0.ln0.weight", vector);
        yield return ("blocks.0.ln0.bias", vector);
        for (int i = 0; i < LayerCount; i++)
        {
            string p = $"blocks.{i}.";
            foreach (var ln in new[] { "ln1", "ln2", "att.ln_x" })
            {
                yield return ($"{p}{ln}.weight", vector);
                yield return ($"{p}{ln}.bias", vector);
            }
            foreach (var m in new[] { "x_r", "x_w", "x_k", "x_v", "x_a", "x_g", "w0", "a0", "k_k", "k_a" })
                yield return ($"{p}att.{m}", mix);
            foreach (var (name, rank) in Loras(i))
            {
                yield return ($"{p}att.{name}1", [c, rank]);
                yield return ($"{p}att.{name}2", [rank, c]);
            }
            if (i > 0) yield return ($"{p}att.v0", mix); // layer 0 produces v_first instead of mixing towards it
            yield return ($"{p}att.r_k", [HeadCount, HeadSize]);
            foreach (var linear in new[] { "receptance", "key", "value", "output" })
                yield return ($"{p}att.{linear}.weight", [c, c]);
            yield return ($"{p}ffn.x_k", mix);
            yield return ($"{p}ffn.key.weight", [FfnSize, c]);
            yield return ($"{p}ffn.value.weight", [c, FfnSize]);
        }
        yield return ("ln_out.weight", vector);
        yield return ("ln_out.bias", vector);
        yield return ("head.weight", [VocabSize, c]);
    }

    private IEnumerable<(string Name, int Rank)> Loras(int layer)
    {
        yield return ("w", DecayLoraRank);
        yield return ("a", LearningRateLoraRank);
        if (layer > 0) yield return ("v", ValueLoraRank);
        yield return ("g", GateLoraRank);
    }

    /// <summary>
    /// Reads the shape from the weights themselves (emb → vocab and C, r_k → H and N, w1/a1/v1/g1 → LoRA ranks,
    /// ffn.key → FFN width, block indices → n_layer), then checks every expected key and shape.
    /// </summary>
    /// <param name="source">Named in errors, normally the checkpoint path.</param>
    public static Rwkv7Config Infer(IReadOnlyDictionary<string, Tensor> weights, string source) => Infer(Infos(weights), source);

    /// <inheritdoc cref="Infer(IReadOnlyDictionary{string, Tensor}, string)"/>
    public static Rwkv7Config Infer(IReadOnlyDictionary<string, TensorInfo> weights, string source)
    {
        long[] Shape(string key, string purpose) => weights.TryGetValue(key, out var t)
            ? t.Shape
            : throw new CheckpointFormatException(source, $"missing key '{key}' (needed to infer the {purpose}); is this an RWKV-7 x070 checkpoint?");
        int Dim(long[] shape, int index, string key) => shape.Length > index
            ? checked((int)shape[index])
            : throw new CheckpointFormatException(source, $"key '{key}' has shape [{string.Join(", ", shape)}], expected at least {index + 1} dimensions");

        var emb = Shape("emb.weight", "vocabulary size and embedding size");
        var rk = Shape("blocks.0.att.r_k", "head count and head size");
        var layers = LayerCountOf(weights.Keys, source);
        var ranks = new Dictionary<string, int>();
        foreach (var lora in new[] { "w", "a", "v", "g" })
        {
            // Layer 0 has no value-residual LoRA, so its rank comes from layer 1.
            var key = lora == "v" ? (layers > 1 ? "blocks.1.att.v1" : null) : $"blocks.0.att.{lora}1";
            ranks[lora] = key == null ? 0 : Dim(Shape(key, $"{lora} LoRA rank"), 1, key);
        }
        var ffnKey = Shape("blocks.0.ffn.key.weight", "FFN width");

        var config = new Rwkv7Config(
            LayerCount: layers,
            EmbeddingSize: Dim(emb, 1, "emb.weight"),
            HeadSize: Dim(rk, 1, "blocks.0.att.r_k"),
            VocabSize: Dim(emb, 0, "emb.weight"),
            FfnSize: Dim(ffnKey, 0, "blocks.0.ffn.key.weight"),
            DecayLoraRank: ranks["w"],
            LearningRateLoraRank: ranks["a"],
            ValueLoraRank: ranks["v"],
            GateLoraRank: ranks["g"]);
        if (config.HeadSize == 0 || config.HeadCount * config.HeadSize != config.EmbeddingSize || Dim(rk, 0, "blocks.0.att.r_k") != config.HeadCount)
            throw new CheckpointFormatException(source,
                $"key 'blocks.0.att.r_k' has shape [{string.Join(", ", rk)}], expected [H, N] with H·N = C = {config.EmbeddingSize}");
        config.Validate(weights, source);
        return config;
    }

    public void Validate(IReadOnlyDictionary<string, Tensor> weights, string source) => Validate(Infos(weights), source);

    /// <summary>
    /// Throws naming the first missing key, the key whose shape or dtype does not match, or the keys x070 does not
    /// use. Keys the reference ignores too (layer 0's <c>att.v0/v1/v2</c>) are accepted; ln0 may be absent as a pair.
    /// </summary>
    public void Validate(IReadOnlyDictionary<string, TensorInfo> weights, string source)
    {
        bool foldedLn0 = !weights.ContainsKey("blocks.0.ln0.weight") && !weights.ContainsKey("blocks.0.ln0.bias");
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, shape) in ExpectedShapes())
        {
            expected.Add(key);
            if (!weights.TryGetValue(key, out var t))
            {
                if (foldedLn0 && key.StartsWith("blocks.0.ln0.", StringComparison.Ordinal)) continue;
                throw new CheckpointFormatException(source, $"missing key '{key}' (expected shape [{string.Join(", ", shape)}])");
            }
            if (!t.Shape.SequenceEqual(shape))
                throw new CheckpointFormatException(source,
                    $"key '{key}' has shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}] for {this}");
            if (!t.IsFloatingPoint)
                throw new CheckpointFormatException(source, $"key '{key}' has dtype {t.DType}, expected a floating point type");
        }
        var unknown = weights.Keys.Where(k => !expected.Contains(k) && !IgnoredByReference(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new CheckpointFormatException(source,
                $"has {unknown.Count} key(s) that RWKV-7 x070 does not use ({string.Join(", ", unknown.Take(5).Select(k => $"'{k}'"))}{(unknown.Count > 5 ? ", …" : "")}); " +
                "is this an x070 checkpoint?");
    }

    /// <summary>
    /// Keys some files carry that the reference never reads: layer 0's value-residual mix (it fills it with
    /// placeholders) and ln0 of layers other than 0 (it normalises the embedding once, with blocks.0.ln0).
    /// </summary>
    private static bool IgnoredByReference(string key) =>
        key is "blocks.0.att.v0" or "blocks.0.att.v1" or "blocks.0.att.v2"
        || (key.StartsWith("blocks.", StringComparison.Ordinal) && (key.EndsWith(".ln0.weight", StringComparison.Ordinal) || key.EndsWith(".ln0.bias", StringComparison.Ordinal)));

    private static Dictionary<string, TensorInfo> Infos(IReadOnlyDictionary<string, Tensor> weights) =>
        weights.ToDictionary(e => e.Key, e => new TensorInfo(e.Value.dtype, e.Value.shape), StringComparer.Ordinal);

    private static int LayerCountOf(IEnumerable<string> keys, string source)
    {
        var indices = keys.Where(k => k.StartsWith("blocks.", StringComparison.Ordinal))
            .Select(k => k.Split('.')[1])
            .Select(s => int.TryParse(s, out var i) ? i : -1)
            .ToHashSet();
        if (indices.Count == 0 || indices.Contains(-1))
            throw new CheckpointFormatException(source, "has no 'blocks.<i>.' keys with integer layer indices; is this an RWKV-7 checkpoint?");
        var count = indices.Max() + 1;
        var gap = Enumerable.Range(0, count).FirstOrDefault(i => !indices.Contains(i), -1);
        if (gap >= 0)
            throw new CheckpointFormatException(source, $"has blocks up to {count - 1} but no keys for block {gap}");
        return count;
    }

    /// <summary>
    /// Published x070 shapes, for benchmarks with <see cref="Rwkv7Model.CreateRandom"/>. The LoRA ranks are those
    /// of BlinkDL's released World/G1 models (RWKV-LM's suggestion max(32, round(f·C^p / 32)·32), with the 0.4B
    /// model's 64/64/64/128); "tiny" matches the test fixture family.
    /// </summary>
    public static IReadOnlyDictionary<string, Rwkv7Config> Published { get; } = new Dictionary<string, Rwkv7Config>
    {
        ["tiny"] = new(2, 128, 64, 1024, 512, 16, 16, 8, 32),
        ["0.1b"] = new(12, 768, 64, 65536, 3072, 64, 64, 32, 128),
        ["0.4b"] = new(24, 1024, 64, 65536, 4096, 64, 64, 64, 128),
        ["1.5b"] = new(24, 2048, 64, 65536, 8192, 96, 96, 64, 256),
        ["2.9b"] = new(32, 2560, 64, 65536, 10240, 96, 96, 64, 320),
    };

    public override string ToString() =>
        $"RWKV-7 L{LayerCount} C{EmbeddingSize} H{HeadCount}×N{HeadSize} V{VocabSize} FFN{FfnSize} LoRA w{DecayLoraRank}/a{LearningRateLoraRank}/v{ValueLoraRank}/g{GateLoraRank}";
}
