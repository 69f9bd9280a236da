using Rag.Generator.Model;
using TorchSharp;
using static Rag.Generator.Kernels.CudaDriver;
using static TorchSharp.torch;

namespace Rag.Generator.Kernels;

/// <summary>
/// The decode step of an RWKV-7 model on Rag's kernels: one token for each of B sequences (LayerNorm + token shift;
/// the r/k/v projections and the LoRA down-projections; the LoRA up-projections with their activations; the WKV
/// step with GroupNorm, bonus and gate; the output projection; the channel mix), captured once per batch size as a
/// CUDA graph and replayed for every token. Weights stay the model's tensors; vectors are kept as fp32 copies and
/// the LoRA matrices transposed, so every projection is a row-major product with the weights as [N, K].
/// </summary>
/// <remarks>
/// Projections: one sequence reads each weight once with Rag's GEMV (one warp per row, activations fused). From
/// <see cref="CublasMinBatch"/> sequences on, 16-bit models run every projection with a wide input (everything but
/// the LoRA up-projections) on cuBLAS, fed 16-bit activations; its GEMMs cost the same at 2 and at 64 sequences,
/// where the GEMV's cost grows with B. The LoRA up-projections stay Rag's (GEMV, or the tensor-core GEMM from
/// <see cref="GemmMinBatch"/>), which apply the LoRA's inner activation as they read its down-projection.
/// </remarks>
internal sealed class Rwkv7Decoder : IDisposable
{
    /// <summary>From this many sequences Rag's own projections run on the tensor cores (measured on an H200, see BENCHMARKS.md).</summary>
    public const int GemmMinBatch = 8;

    /// <summary>From this many sequences the wide projections run on cuBLAS (measured on an H200: equal at 1, 1.3× faster at 2).</summary>
    public const int CublasMinBatch = 2;

    private readonly Rwkv7Kernels _kernels;
    private readonly Cublas? _cublas;  // null: fp32 weights, or no cuBLAS found
    private readonly Rwkv7Config _config;
    private readonly Tensor _embedding, _head;
    private readonly Tensor _lnOutWeight, _lnOutBias;
    private readonly Layer[] _layers;
    private readonly List<Tensor> _owned = [];
    private readonly Dictionary<int, Graph> _graphs = [];

    public Rwkv7Decoder(Rwkv7Kernels kernels, Rwkv7Config config, Tensor embedding, IReadOnlyList<Block> blocks, LayerNorm lnOut, Tensor head)
    {
        (_kernels, _config, _embedding, _head) = (kernels, config, embedding, head);
        using var noGrad = no_grad();
        (_lnOutWeight, _lnOutBias) = (Vector(lnOut.Weight), Vector(lnOut.Bias));
        _layers = blocks.Select(b =>
        {
            var v = b.att.Vectors!;  // the fp32 vectors the prefill kernels read: the decode step reads the same
            return new Layer(
                Ln1: (Vector(b.ln1.Weight), Vector(b.ln1.Bias)),
                Mix: v.Mix,
                Receptance: b.att.receptance, Key: b.att.key, Value: b.att.value, Output: b.att.output,
                W1: Transposed(b.att.w1), W2: Transposed(b.att.w2), A1: Transposed(b.att.a1), A2: Transposed(b.att.a2),
                V1: b.att.v1 is null ? null : Transposed(b.att.v1), V2: b.att.v2 is null ? null : Transposed(b.att.v2),
                G1: Transposed(b.att.g1), G2: Transposed(b.att.g2),
                W0: v.W0, A0: v.A0, V0: v.V0, KK: v.KK, KA: v.KA, RK: Own(b.att.r_k.contiguous()),
                LnX: (Vector(b.att.ln_x_weight), Vector(b.att.ln_x_bias)),
                Ln2: (Vector(b.ln2.Weight), Vector(b.ln2.Bias)),
                FfnMix: b.ffn.Mix!, FfnKey: b.ffn.key, FfnValue: b.ffn.value);
        }).ToArray();
        if (kernels.Suffix != "f32")
        {
            kernels.Module.MakeCurrent();
            _cublas = Cublas.TryCreate(embedding.device);
        }
    }

    /// <summary>What runs the projections of a batched step, for diagnostics.</summary>
    public string Projections => _cublas is null
        ? "Rag GEMV/GEMM" + (_kernels.Suffix == "f32" ? "" : " (cuBLAS not found)")
        : $"cuBLAS from {CublasMinBatch} sequences ({_cublas.Path})";

    /// <summary>Next-token logits [B, V] fp32 after <paramref name="tokens"/> [B, 1]; <paramref name="state"/> advances in place.</summary>
    public Tensor Step(Tensor tokens, Rwkv7State state)
    {
        if (!_graphs.TryGetValue(state.Batch, out var graph)) _graphs[state.Batch] = graph = new Graph(this, state.Batch);
        return graph.Run(tokens, state);
    }

    private Tensor Own(Tensor t)
    {
        t = t.DetachFromDisposeScope();
        _owned.Add(t);
        return t;
    }

    private Tensor Vector(Tensor t) => Own(t.to(ScalarType.Float32).reshape(-1).contiguous());

    private Tensor Transposed(Tensor t) => Own(t.t().contiguous());

    public void Dispose()
    {
        foreach (var graph in _graphs.Values) graph.Dispose();
        _cublas?.Dispose();
        foreach (var t in _owned) t.Dispose();
    }

    private sealed record Layer(
        (Tensor Weight, Tensor Bias) Ln1, Tensor Mix, Tensor Receptance, Tensor Key, Tensor Value, Tensor Output,
        Tensor W1, Tensor W2, Tensor A1, Tensor A2, Tensor? V1, Tensor? V2, Tensor G1, Tensor G2,
        Tensor W0, Tensor A0, Tensor? V0, Tensor KK, Tensor KA, Tensor RK, (Tensor Weight, Tensor Bias) LnX,
        (Tensor Weight, Tensor Bias) Ln2, Tensor FfnMix, Tensor FfnKey, Tensor FfnValue);

    /// <summary>The buffers and the captured graph of one batch size.</summary>
    private sealed class Graph : IDisposable
    {
        private readonly Rwkv7Decoder _d;
        private readonly int _batch;
        private readonly Tensor _tokens, _table, _logits;
        private readonly List<Tensor> _buffers = [];
        private readonly IntPtr _stream, _ready, _done, _graph, _executable;
        private long[] _tablePointers = [];

        public Graph(Rwkv7Decoder decoder, int batch)
        {
            (_d, _batch) = (decoder, batch);
            var c = decoder._config;
            var device = decoder._embedding.device;
            Tensor Buffer(ScalarType dtype, long[] shape)
            {
                var t = zeros(shape, dtype, device).DetachFromDisposeScope();
                _buffers.Add(t);
                return t;
            }
            _tokens = zeros([batch], ScalarType.Int64, device).DetachFromDisposeScope();
            _table = zeros([3 * c.LayerCount], ScalarType.Int64, device).DetachFromDisposeScope();
            _logits = Buffer(ScalarType.Float32, [batch, c.VocabSize]);
            var kernels = decoder._kernels;
            kernels.Module.MakeCurrent();
            Check(cuStreamCreate(out _stream, StreamNonBlocking), "cuStreamCreate");
            Check(cuEventCreate(out _ready, EventDisableTiming), "cuEventCreate");
            Check(cuEventCreate(out _done, EventDisableTiming), "cuEventCreate");
            var launches = Launches(Buffer);
            Check(cuStreamBeginCapture(_stream, CaptureModeRelaxed), "cuStreamBeginCapture");
            try
            {
                foreach (var launch in launches) launch(_stream);
            }
            finally
            {
                Check(cuStreamEndCapture(_stream, out _graph), "cuStreamEndCapture");
            }
            Check(cuGraphInstantiateWithFlags(out _executable, _graph, 0), "cuGraphInstantiateWithFlags");
        }

        /// <summary>The step's launches in order; each takes the stream to launch on.</summary>
        private List<Action<IntPtr>> Launches(Func<ScalarType, long[], Tensor> buffer)
        {
            var (d, c, B) = (_d, _d._config, _batch);
            var module = d._kernels.Module;
            var suffix = d._kernels.Suffix;
            int C = c.EmbeddingSize, H = c.HeadCount;
            // One block per sequence, as many threads as fit: the block's two reductions are the kernel's latency.
            int shiftMixThreads = Math.Min(1024, C);
            var cublas = B >= CublasMinBatch ? d._cublas : null;
            // The inputs of cuBLAS projections are made in the model's 16-bit dtype; Rag's kernels read fp32.
            var input = cublas is null ? ScalarType.Float32 : d._embedding.dtype;
            int inputHalf = cublas is null ? 0 : 1, yType = cublas is null ? 0 : suffix == "bf16" ? 1 : 2;
            IntPtr A(Tensor? t) => t is null ? IntPtr.Zero : CudaModule.Address(t);
            Tensor F32(params long[] shape) => buffer(ScalarType.Float32, shape);
            var x = F32(B, C);
            var mixed = buffer(input, [6, B, C]);
            var (r, k, v) = (F32(B, C), F32(B, C), F32(B, C));
            var (hw, ha, hv, hg) = (F32(B, c.DecayLoraRank), F32(B, c.LearningRateLoraRank), F32(B, c.ValueLoraRank), F32(B, c.GateLoraRank));
            var (logW, a, vResidual, g, vFirst) = (F32(B, C), F32(B, C), F32(B, C), F32(B, C), F32(B, C));
            var (y, ffnIn, hidden, normed) = (buffer(input, [B, C]), buffer(input, [B, C]), F32(B, c.FfnSize), buffer(input, [B, C]));
            var squared = cublas is null ? hidden : buffer(input, [B, c.FfnSize]);
            IntPtr Mixed(int m) => A(mixed) + m * B * C * (int)mixed.element_size();
            GemvJob Job(Tensor w, IntPtr input, Tensor output, Tensor? bias = null, Activation act = Activation.None, bool accumulate = false,
                Activation inAct = Activation.None) =>
                new() { W = A(w), X = input, Y = A(output), Bias = A(bias), N = (int)w.shape[0], K = (int)w.shape[1], Act = act, Accumulate = accumulate ? 1 : 0, InAct = inAct };
            // y (+)= x wᵀ for the projections with wide inputs: on cuBLAS when it runs this batch, else Rag's kernels.
            Action<IntPtr> Project(params GemvJob[] jobs) => cublas is null
                ? Gemv(jobs)
                : s => { foreach (var j in jobs) cublas.Gemm(s, suffix, j.W, j.X, j.Y, B, j.N, j.K, j.Accumulate != 0); };
            // Few sequences: one warp per weight row (bound by reading the weights; rows of WideK columns and more keep
            // two loads in flight per lane, one sequence has kernels of its own). Many: the tensor cores, for every
            // 16-bit matrix whose width they take (multiples of 32); narrow LoRA matrices stay on the GEMV.
            bool manySequences = B >= GemmMinBatch && B <= GemvArgs.GemmMaxBatch && suffix != "f32";
            Action<IntPtr> Gemv(params GemvJob[] jobs)
            {
                bool OnTensorCores(GemvJob j) => manySequences && j.K % 32 == 0;
                var gemm = jobs.Where(OnTensorCores).ToArray();
                var launches = new List<Action<IntPtr>>();
                if (gemm.Length > 0)
                {
                    var args = new GemvArgs(B, gemm);
                    int blocks = GemvArgs.GemmBlocks(gemm);
                    launches.Add(s => module.Launch("gemm_" + suffix, blocks, 128, args, s));
                }
                foreach (var rows in jobs.Where(j => !OnTensorCores(j)).GroupBy(j => j.K >= GemvArgs.WideK))
                {
                    var args = new GemvArgs(B, [.. rows]);
                    int blocks = GemvArgs.GemvBlocks(rows);
                    var kernel = (B == 1 ? "gemv1" : "gemv") + (rows.Key ? "_wide_" : "_") + suffix;
                    launches.Add(s => module.Launch(kernel, blocks, 256, args, s));
                }
                return s => launches.ForEach(launch => launch(s));
            }
            Action<IntPtr> ShiftMix(Tensor input, (Tensor Weight, Tensor Bias) ln, int slot, Tensor? mix, Tensor output, int outputs)
            {
                var args = new ShiftMixArgs
                {
                    X = A(input), LnWeight = A(ln.Weight), LnBias = A(ln.Bias), Table = A(_table), ShiftSlot = slot,
                    Mix = A(mix), Out = A(output), B = B, C = C, M = outputs, OutHalf = inputHalf,
                };
                return s => module.Launch("shift_mix_" + suffix, B, shiftMixThreads, args, s);
            }

            var embed = new EmbedArgs { Embedding = A(d._embedding), Tokens = A(_tokens), X = A(x), C = C };
            var launches = new List<Action<IntPtr>> { s => module.Launch("embed_" + suffix, B, 256, embed, s) };
            for (int l = 0; l < d._layers.Length; l++)
            {
                var layer = d._layers[l];
                bool first = l == 0;  // layer 0 makes v_first; the others mix towards it
                launches.Add(ShiftMix(x, layer.Ln1, 3 * l, layer.Mix, mixed, 6));
                // mixed: 0 r, 1 w, 2 k, 3 v, 4 a, 5 g. The LoRAs' inner activations (tanh for w, sigmoid for g) are applied
                // by their up-projections, so every down-projection is a plain product.
                var down = new List<GemvJob>
                {
                    Job(layer.Receptance, Mixed(0), r), Job(layer.Key, Mixed(2), k), Job(layer.Value, Mixed(3), v),
                    Job(layer.W1, Mixed(1), hw), Job(layer.A1, Mixed(4), ha), Job(layer.G1, Mixed(5), hg),
                };
                if (!first) down.Add(Job(layer.V1!, Mixed(3), hv));
                launches.Add(Project([.. down]));
                var up = new List<GemvJob>
                {
                    Job(layer.W2, A(hw), logW, layer.W0, Activation.LogDecay, inAct: Activation.Tanh),
                    Job(layer.A2, A(ha), a, layer.A0, Activation.Sigmoid),
                    Job(layer.G2, A(hg), g, inAct: Activation.Sigmoid),
                };
                if (!first) up.Add(Job(layer.V2!, A(hv), vResidual, layer.V0, Activation.Sigmoid));
                launches.Add(Gemv([.. up]));
                var wkv = new WkvDecodeArgs
                {
                    R = A(r), K = A(k), V = A(v), LogW = A(logW), A = A(a), G = A(g), VResidual = first ? IntPtr.Zero : A(vResidual),
                    VFirst = A(vFirst), KK = A(layer.KK), KA = A(layer.KA), RK = A(layer.RK), LnXWeight = A(layer.LnX.Weight),
                    LnXBias = A(layer.LnX.Bias), Y = A(y), Table = A(_table), WkvSlot = 3 * l + 1, H = H, YType = yType,
                };
                launches.Add(s => module.Launch("wkv7_decode", B * H, 64, wkv, s));
                launches.Add(Project(Job(layer.Output, A(y), x, accumulate: true)));
                launches.Add(ShiftMix(x, layer.Ln2, 3 * l + 2, layer.FfnMix, ffnIn, 1));
                if (cublas is null)
                {
                    launches.Add(Gemv(Job(layer.FfnKey, A(ffnIn), hidden, act: Activation.ReluSquared)));
                }
                else
                {
                    // cuBLAS has no relu² epilogue: one pass squares the hidden layer into the next GEMM's 16-bit input.
                    var relu = new SquaredReluArgs { H = A(hidden), Out = A(squared), N = hidden.numel() };
                    launches.Add(Project(Job(layer.FfnKey, A(ffnIn), hidden)));
                    launches.Add(s => module.Launch("squared_relu_" + suffix, (int)Math.Min(1024, (relu.N + 255) / 256), 256, relu, s));
                }
                launches.Add(Project(Job(layer.FfnValue, A(squared), x, accumulate: true)));
            }
            launches.Add(ShiftMix(x, (d._lnOutWeight, d._lnOutBias), -1, null, normed, 1));
            launches.Add(Project(Job(d._head, A(normed), _logits)));
            return launches;
        }

        public Tensor Run(Tensor tokens, Rwkv7State state)
        {
            var pointers = new long[_table.shape[0]];
            for (int l = 0; l < state.Layers.Count; l++)
            {
                var layer = state.Layers[l];
                Tensor[] parts = [layer.TimeMixShift, layer.Wkv, layer.ChannelMixShift];
                for (int p = 0; p < 3; p++)
                {
                    if (!parts[p].is_contiguous()) throw new ArgumentException("Decode states must be contiguous tensors.", nameof(state));
                    pointers[3 * l + p] = CudaModule.Address(parts[p]);
                }
            }
            // Both copies run on libtorch's stream; the graph waits for them through the event below.
            if (!pointers.AsSpan().SequenceEqual(_tablePointers))
            {
                using var host = torch.tensor(pointers);
                _table.copy_(host);
                _tablePointers = pointers;
            }
            using (var flat = tokens.reshape(-1)) _tokens.copy_(flat);
            _d._kernels.Module.MakeCurrent();
            Check(cuEventRecord(_ready, IntPtr.Zero), "cuEventRecord");
            Check(cuStreamWaitEvent(_stream, _ready, 0), "cuStreamWaitEvent");
            Check(cuGraphLaunch(_executable, _stream), "cuGraphLaunch");
            Check(cuEventRecord(_done, _stream), "cuEventRecord");
            Check(cuStreamWaitEvent(IntPtr.Zero, _done, 0), "cuStreamWaitEvent");
            return _logits.clone();
        }

        public void Dispose()
        {
            cuGraphExecDestroy(_executable);
            cuGraphDestroy(_graph);
            cuEventDestroy(_ready);
            cuEventDestroy(_done);
            cuStreamDestroy(_stream);
            _tokens.Dispose();
            _table.Dispose();
            foreach (var t in _buffers) t.Dispose();
        }
    }
}
