using Rag.Generator.Model;
using TorchSharp;
using TorchSharp.Modules;
using LayerNorm = TorchSharp.Modules.LayerNorm;
using static TorchSharp.torch;

namespace Rag.Generator.Benchmarks;

/// <summary>
/// The comparison point for the benchmark: a pre-LayerNorm transformer of the same width, depth and
/// vocabulary as an RWKV-7 shape, with softmax attention through libtorch's
/// scaled_dot_product_attention (flash kernels on CUDA) and a KV cache that grows with the prompt.
/// Randomly initialised; it exists to be timed, not to be good.
/// </summary>
public sealed class SoftmaxTransformer : nn.Module, ILanguageModel
{
    private readonly int _heads;
    private readonly int _headSize;
    private readonly Embedding _emb;
    private readonly ModuleList<AttentionBlock> _blocks;
    private readonly LayerNorm _lnOut;
    private readonly Linear _head;

    public SoftmaxTransformer(int layers, int width, int headSize, int vocab, Device device, ScalarType dtype, long seed)
        : base(nameof(SoftmaxTransformer))
    {
        _heads = width / headSize;
        _headSize = headSize;
        VocabSize = vocab;
        Device = device;
        torch.manual_seed(seed);
        _emb = nn.Embedding(vocab, width);
        _blocks = new ModuleList<AttentionBlock>(Enumerable.Range(0, layers).Select(i => new AttentionBlock(width, _heads, headSize)).ToArray());
        _lnOut = nn.LayerNorm(width);
        _head = nn.Linear(width, vocab, hasBias: false);
        RegisterComponents();
        this.to(device, dtype);
    }

    public int VocabSize { get; }

    public Device Device { get; }

    public IModelState CreateState(int batch = 1) => new KvCache(batch, _blocks.Count);

    /// <summary>tokens [B, T] → last-position logits [B, V] fp32; appends T positions to the KV cache.</summary>
    public Tensor Forward(Tensor tokens, IModelState state)
    {
        var cache = (KvCache)state;
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var x = _emb.forward(tokens.to(Device));            // [B, T, C]
        for (int i = 0; i < _blocks.Count; i++)
        {
            // A scope per layer: only one layer's intermediates are alive at a time.
            using var layerScope = torch.NewDisposeScope();
            var next = _blocks[i].forward(x, cache, i).MoveToOuterDisposeScope();
            x.Dispose();
            x = next;
        }
        var last = x[.., -1, ..];                           // [B, C]
        return _head.forward(_lnOut.forward(last)).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    private sealed class AttentionBlock : nn.Module
    {
        private readonly int _heads;
        private readonly int _headSize;
        private readonly LayerNorm _ln1;
        private readonly Linear _qkv;
        private readonly Linear _proj;
        private readonly LayerNorm _ln2;
        private readonly Linear _fc;
        private readonly Linear _out;

        public AttentionBlock(int width, int heads, int headSize) : base(nameof(AttentionBlock))
        {
            _heads = heads;
            _headSize = headSize;
            _ln1 = nn.LayerNorm(width);
            _qkv = nn.Linear(width, 3 * width, hasBias: false);
            _proj = nn.Linear(width, width, hasBias: false);
            _ln2 = nn.LayerNorm(width);
            _fc = nn.Linear(width, 4 * width, hasBias: false);
            _out = nn.Linear(4 * width, width, hasBias: false);
            RegisterComponents();
        }

        public Tensor forward(Tensor x, KvCache cache, int layer)
        {
            var (b, t, c) = (x.shape[0], x.shape[1], x.shape[2]);
            var qkv = _qkv.forward(_ln1.forward(x)).view(b, t, 3, _heads, _headSize).permute(2, 0, 3, 1, 4); // [3, B, H, T, N]
            var (k, v) = cache.Append(layer, qkv[1], qkv[2]);                                          // [B, H, T_past+T, N]
            // A fresh prompt attends causally; a decode step (or a continuation) sees every cached position.
            bool causal = k.shape[2] == t;
            var y = nn.functional.scaled_dot_product_attention(qkv[0], k, v, is_casual: causal);
            x = x + _proj.forward(y.transpose(1, 2).reshape(b, t, c));
            return x + _out.forward(nn.functional.gelu(_fc.forward(_ln2.forward(x))));
        }
    }

    /// <summary>
    /// Per layer K and V [B, H, capacity, N], grown by doubling so a decode step writes one position
    /// instead of copying the cache; it still grows with every token, which is the point of the comparison.
    /// </summary>
    private sealed class KvCache(int batch, int layers) : IModelState
    {
        private readonly Tensor?[] _k = new Tensor?[layers];
        private readonly Tensor?[] _v = new Tensor?[layers];
        private readonly long[] _length = new long[layers];

        public int Batch { get; } = batch;

        public (Tensor K, Tensor V) Append(int layer, Tensor k, Tensor v)
        {
            long start = _length[layer], end = start + k.shape[2];
            _k[layer] = Reserve(_k[layer], k, start, end);
            _v[layer] = Reserve(_v[layer], v, start, end);
            _k[layer]!.narrow(2, start, end - start).copy_(k);
            _v[layer]!.narrow(2, start, end - start).copy_(v);
            _length[layer] = end;
            return (_k[layer]!.narrow(2, 0, end), _v[layer]!.narrow(2, 0, end));
        }

        private static Tensor Reserve(Tensor? buffer, Tensor like, long used, long needed)
        {
            if (buffer is not null && buffer.shape[2] >= needed) return buffer;
            long capacity = Math.Max(needed, 2 * (buffer?.shape[2] ?? 0));
            var grown = torch.empty([like.shape[0], like.shape[1], capacity, like.shape[3]], like.dtype, like.device).DetachFromDisposeScope();
            if (buffer is not null)
            {
                grown.narrow(2, 0, used).copy_(buffer.narrow(2, 0, used));
                buffer.Dispose();
            }
            return grown;
        }

        public IModelState Expand(int batch)
        {
            var copy = new KvCache(batch, _k.Length);
            try
            {
                for (int layer = 0; layer < _k.Length; layer++)
                {
                    copy._k[layer] = Repeat(_k[layer], batch);
                    copy._v[layer] = Repeat(_v[layer], batch);
                    copy._length[layer] = _length[layer];
                }
                return copy;
            }
            catch
            {
                copy.Dispose(); // an out-of-memory half way must not strand the layers already copied
                throw;
            }
        }

        public long Bytes => _k.Concat(_v).Sum(t => t is null ? 0 : t.numel() * t.ElementSize);

        // The baseline is a benchmark comparison, never served: a KV cache's sequences would need their own lengths.
        public IModelState Slice(int start, int count) => throw NotServed();

        public void CopySequence(int sequence, IModelState source, int sourceSequence) => throw NotServed();

        public IModelState CopyOut(int sequence, Device device) => throw NotServed();

        private static NotSupportedException NotServed() =>
            new("The softmax baseline's KV cache cannot be batched by the generation scheduler; it is for benchmarks only.");

        private static Tensor? Repeat(Tensor? buffer, int batch)
        {
            if (buffer is null) return null;
            using var first = buffer.narrow(0, 0, 1);
            using var repeated = first.expand(batch, -1, -1, -1);
            return repeated.clone().DetachFromDisposeScope(); // a copy: the new cache never shares storage with this one
        }

        public void Dispose()
        {
            foreach (var t in _k.Concat(_v)) t?.Dispose();
        }
    }
}
