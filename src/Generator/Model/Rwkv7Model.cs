using Rag.Generator.Generation;
using Rag.Generator.Checkpoints;
using Rag.Generator.Kernels;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Rag.Generator.Model;

/// <summary>
/// RWKV-7 "Goose" (x070), matching BlinkDL's reference: embedding (with blocks.0.ln0 folded in at load),
/// n_layer blocks of time mix + channel mix, ln_out, head. Prompts run as a chunked parallel prefill,
/// segment by segment; single tokens run the recurrent step.
/// </summary>
public sealed class Rwkv7Model : ILanguageModel
{
    private readonly Tensor _embedding; // ln0(emb.weight): [V, C]
    private readonly Block[] _blocks;
    private readonly LayerNorm _lnOut;
    private readonly Tensor _head;      // [V, C]
    private readonly Rwkv7Decoder? _decoder;  // decode steps on Rag's CUDA kernels, when they run

    private Rwkv7Model(Rwkv7Config config, ModelWeights weights, GeneratorOptions options)
    {
        Config = config;
        Device = weights.Device;
        Dtype = weights.Dtype;
        ChunkLength = options.ChunkLength;
        SegmentLength = options.SegmentLength;
        _embedding = Embedding(weights, config);
        var kernels = Rwkv7Kernels.Load(config, Device, Dtype, options.ResolveKernels(), options.NvrtcPath, options.KernelCacheDirectory, out var reason);
        KernelStatus = kernels?.Description ?? (reason is null ? "off" : $"off ({reason})");
        var wkv = new Wkv7(options.ChunkLength, tensorFloat32: Dtype != ScalarType.Float32, kernels);
        _blocks = Enumerable.Range(0, config.LayerCount).Select(i => new Block(weights, config, i, wkv)).ToArray();
        _lnOut = new LayerNorm(weights, "ln_out");
        _head = weights["head.weight"];
        if (kernels is not null)
        {
            _decoder = new Rwkv7Decoder(kernels, config, _embedding, _blocks, _lnOut, _head);
            KernelStatus += $"; batched decode projections: {_decoder.Projections}";
        }
    }

    /// <summary>
    /// The reference applies ln0 to every embedding it looks up; doing it once to the table is the same. A file
    /// without ln0 holds the table already normalised (as files converted by the reference's loader do).
    /// </summary>
    private static Tensor Embedding(ModelWeights weights, Rwkv7Config config)
    {
        if (!weights.Contains("blocks.0.ln0.weight")) return weights["emb.weight"];
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var emb = weights.Float("emb.weight");
        using var ln0Weight = weights.Float("blocks.0.ln0.weight");
        using var ln0Bias = weights.Float("blocks.0.ln0.bias");
        return F.layer_norm(emb, [config.EmbeddingSize], ln0Weight, ln0Bias, 1e-5).to(weights.Dtype).DetachFromDisposeScope();
    }

    /// <summary>Which forward path runs: Rag's CUDA kernels (with the compiler that built them) or "off" (with why, under auto).</summary>
    public string KernelStatus { get; }

    public Rwkv7Config Config { get; }

    public Device Device { get; }

    public ScalarType Dtype { get; }

    public int VocabSize => Config.VocabSize;

    public int ChunkLength { get; }

    public int SegmentLength { get; }

    /// <summary>
    /// Loads a .pth or .safetensors checkpoint, inferring and validating its shape from the file's index first,
    /// then streaming each tensor from the file into its device and dtype.
    /// </summary>
    public static Rwkv7Model Load(string path, GeneratorOptions options)
    {
        options.Validate();
        var (device, dtype) = (options.ResolveDevice(), options.ResolveDtype());
        using var checkpoint = Rwkv7Checkpoint.Open(path);
        return Create(Rwkv7Config.Infer(checkpoint.Tensors, path), new ModelWeights(checkpoint, device, dtype), options);
    }

    /// <summary>Builds a model from tensors already in memory; <paramref name="source"/> is named in errors.</summary>
    public static Rwkv7Model FromWeights(IReadOnlyDictionary<string, Tensor> weights, GeneratorOptions options, string source)
    {
        options.Validate();
        var (device, dtype) = (options.ResolveDevice(), options.ResolveDtype());
        using var checkpoint = new Rwkv7Checkpoint(new InMemoryCheckpoint(weights, source));
        return Create(Rwkv7Config.Infer(checkpoint.Tensors, source), new ModelWeights(checkpoint, device, dtype), options);
    }

    /// <summary>
    /// A model of the given shape with random weights (for benchmarks: the numbers are plausible, not trained).
    /// The tensors are generated on the target device in the target dtype.
    /// </summary>
    public static Rwkv7Model CreateRandom(Rwkv7Config config, GeneratorOptions options, long seed)
    {
        options.Validate();
        var (device, dtype) = (options.ResolveDevice(), options.ResolveDtype());
        random.manual_seed(seed);
        var weights = new Dictionary<string, Tensor>();
        try
        {
            using (no_grad())
            {
                foreach (var (key, shape) in config.ExpectedShapes())
                    weights[key] = RandomWeight(key, shape, dtype, device);
            }
            return Create(config, new ModelWeights(new InMemoryCheckpoint(weights, "random weights"), device, dtype), options);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary><see cref="CreateRandom(Rwkv7Config, GeneratorOptions, long)"/> with default chunking.</summary>
    public static Rwkv7Model CreateRandom(Rwkv7Config config, string device, string dtype, long seed) =>
        CreateRandom(config, new GeneratorOptions { Device = device, Dtype = dtype }, seed);

    private static Tensor RandomWeight(string key, long[] shape, ScalarType dtype, Device device)
    {
        var name = key[(key.LastIndexOf('.') + 1)..];
        bool isNorm = key.Contains(".ln") || key.StartsWith("ln_out", StringComparison.Ordinal);
        return (isNorm, name, shape.Length) switch
        {
            (true, "weight", _) => ones(shape, dtype, device),
            (true, "bias", _) => zeros(shape, dtype, device),
            (_, _, 3) => rand(shape, dtype, device),             // token-shift mixes and LoRA biases in [0, 1)
            _ => randn(shape, dtype, device).mul_(0.02),          // matrices
        };
    }

    private static Rwkv7Model Create(Rwkv7Config config, ModelWeights weights, GeneratorOptions options)
    {
        using (no_grad()) return new Rwkv7Model(config, weights, options);
    }

    /// <summary>A zero state for <paramref name="batch"/> sequences.</summary>
    public Rwkv7State CreateState(int batch = 1) => Rwkv7State.Zeros(Config, batch, Dtype, Device);

    IModelState ILanguageModel.CreateState(int batch) => CreateState(batch);

    /// <summary>Next-token logits after <paramref name="tokens"/> [B, T]: [B, V] fp32. The state advances in place.</summary>
    public Tensor Forward(Tensor tokens, IModelState state) => Run(tokens, state, allPositions: false);

    /// <summary>Logits at every position of <paramref name="tokens"/> [B, T]: [B, T, V] fp32. The state advances in place.</summary>
    public Tensor ForwardAll(Tensor tokens, IModelState state) => Run(tokens, state, allPositions: true);

    private Tensor Run(Tensor tokens, IModelState state, bool allPositions)
    {
        var rwkvState = CheckInputs(tokens, state);
        using var noGrad = no_grad();
        if (_decoder is not null && tokens.shape[1] == 1 && !allPositions) return _decoder.Step(tokens, rwkvState);
        using var scope = NewDisposeScope();
        tokens = tokens.to(Device);
        long T = tokens.shape[1];
        var logits = new List<Tensor>();
        // Segments bound the activations' memory; the state carries everything across them.
        for (long start = 0; start < T; start += SegmentLength)
        {
            using var segmentScope = NewDisposeScope();
            long length = Math.Min(SegmentLength, T - start);
            var x = Hidden(tokens.narrow(1, start, length), rwkvState);
            if (!allPositions && start + length < T) continue;
            var output = allPositions ? x : x.narrow(1, length - 1, 1);
            logits.Add(Head(output).MoveToOuterDisposeScope());
        }
        var result = allPositions ? cat(logits, 1) : logits[0].squeeze(1);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The last block's output [B, T, C] for <paramref name="tokens"/> [B, T].</summary>
    private Tensor Hidden(Tensor tokens, Rwkv7State state)
    {
        long B = tokens.shape[0], T = tokens.shape[1];
        var x = _embedding.index_select(0, tokens.reshape(-1)).view(B, T, Config.EmbeddingSize);
        Tensor? vFirst = null;
        for (int i = 0; i < _blocks.Length; i++)
        {
            // A scope per layer: only one layer's intermediates are alive at a time.
            using var layerScope = NewDisposeScope();
            var next = _blocks[i].Forward(x, state.Layers[i], ref vFirst).MoveToOuterDisposeScope();
            if (i == 0) vFirst = vFirst?.MoveToOuterDisposeScope();
            x.Dispose();
            x = next;
        }
        return x;
    }

    private Tensor Head(Tensor x) => F.linear(_lnOut.Forward(x), _head).to(ScalarType.Float32);

    private Rwkv7State CheckInputs(Tensor tokens, IModelState state)
    {
        if (state is not Rwkv7State rwkvState || rwkvState.Layers.Count != Config.LayerCount)
            throw new ArgumentException($"The state was not created by this {Config} model.", nameof(state));
        if (tokens.dim() != 2 || tokens.dtype != ScalarType.Int64 || tokens.shape[1] < 1)
            throw new ArgumentException($"Tokens must be an int64 tensor [B, T] with T ≥ 1; got {tokens.dtype} [{string.Join(", ", tokens.shape)}].", nameof(tokens));
        if (tokens.shape[0] != rwkvState.Batch)
            throw new ArgumentException($"Tokens have batch {tokens.shape[0]} but the state holds {rwkvState.Batch} sequences.", nameof(tokens));
        long min, max;
        // Ids on the host are checked where they are (a GPU tensor's check would stall every decode step).
        if (tokens.device.type == DeviceType.CPU && tokens.is_contiguous())
        {
            var ids = tokens.data<long>();
            (min, max) = (ids.Min(), ids.Max());
        }
        else using (NewDisposeScope()) (min, max) = (tokens.min().item<long>(), tokens.max().item<long>());
        if (min < 0 || max >= VocabSize)
            throw new ArgumentOutOfRangeException(nameof(tokens), $"Token ids must be in [0, {VocabSize}); got values from {min} to {max}.");
        return rwkvState;
    }

    public void Dispose()
    {
        _decoder?.Dispose();
        _embedding.Dispose();
        foreach (var block in _blocks) block.Dispose();
        _lnOut.Dispose();
        _head.Dispose();
    }
}
