using System.Numerics.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Rag.Retrieval.Embedded;

public readonly record struct DenseMatch(string ChunkId, string DocumentId, float Score);

/// <summary>
/// Exact in-memory cosine index: rows of L2-normalised vectors in one contiguous float[] (row r at r·dim),
/// with the chunk and document id of each row. Top-k scans row blocks in parallel, each block keeping a
/// bounded min-heap, then merges the block winners. On a CUDA device the rows are mirrored to GPU memory
/// (refreshed after writes) and a query is one matrix-vector product plus topk.
/// </summary>
public sealed class DenseIndex(Device? device = null) : IDisposable
{
    private const int BlockRows = 4096;

    private readonly ReaderWriterLockSlim _lock = new();
    private float[] _rows = [];
    private readonly List<string> _chunkIds = [];
    private readonly List<string> _documentIds = [];
    private readonly Dictionary<string, int> _rowOfChunk = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _chunksOfDocument = new(StringComparer.Ordinal);
    private readonly Device? _gpu = device?.type == DeviceType.CUDA ? device : null;
    private readonly Lock _gpuLock = new();
    private Tensor? _gpuRows;   // [count, dim] copy of _rows on _gpu; null when stale

    /// <summary>Vector dimension; 0 while the index is empty.</summary>
    public int Dimension { get; private set; }

    public int Count
    {
        get { _lock.EnterReadLock(); try { return _chunkIds.Count; } finally { _lock.ExitReadLock(); } }
    }

    /// <summary>Replaces every row of a document (idempotent); vectors must already be normalised.</summary>
    public void SetDocument(string documentId, IReadOnlyList<(string ChunkId, float[] Vector)> rows)
    {
        _lock.EnterWriteLock();
        try
        {
            RemoveDocumentLocked(documentId);
            InvalidateGpuCopy();
            if (rows.Count == 0) return;
            var dimension = Dimension == 0 ? rows[0].Vector.Length : Dimension;
            foreach (var (chunkId, vector) in rows)
            {
                if (vector.Length != dimension)
                    throw new ArgumentException(
                        $"Vector of chunk '{chunkId}' has dimension {vector.Length} but the index holds dimension {dimension}.");
            }
            Dimension = dimension;
            var ids = new List<string>(rows.Count);
            foreach (var (chunkId, vector) in rows)
            {
                var row = _chunkIds.Count;
                EnsureCapacity(row + 1);
                vector.CopyTo(_rows.AsSpan(row * dimension, dimension));
                _chunkIds.Add(chunkId);
                _documentIds.Add(documentId);
                _rowOfChunk[chunkId] = row;
                ids.Add(chunkId);
            }
            _chunksOfDocument[documentId] = ids;
        }
        finally { _lock.ExitWriteLock(); }
    }

    public void RemoveDocument(string documentId)
    {
        _lock.EnterWriteLock();
        try
        {
            RemoveDocumentLocked(documentId);
            InvalidateGpuCopy();
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <returns>A copy of the stored (normalised) vector, or null.</returns>
    public float[]? VectorOf(string chunkId)
    {
        _lock.EnterReadLock();
        try
        {
            return _rowOfChunk.TryGetValue(chunkId, out var row)
                ? _rows.AsSpan(row * Dimension, Dimension).ToArray()
                : null;
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>The k rows with the highest dot product with the (normalised) query, best first.</summary>
    /// <param name="allowedDocumentIds">When given, only rows of these documents compete.</param>
    public IReadOnlyList<DenseMatch> TopK(ReadOnlySpan<float> query, int k, IReadOnlySet<string>? allowedDocumentIds = null)
    {
        _lock.EnterReadLock();
        try
        {
            var count = _chunkIds.Count;
            if (k <= 0 || count == 0) return [];
            if (query.Length != Dimension)
                throw new ArgumentException(
                    $"Query vector has dimension {query.Length} but the index holds vectors of dimension {Dimension}.", nameof(query));

            if (_gpu is not null) return TopKOnGpu(query, k, count, allowedDocumentIds);
            var q = query.ToArray(); // spans cannot cross into the parallel lambda
            var blocks = (count + BlockRows - 1) / BlockRows;
            var winners = new (int Row, float Score)[blocks][];
            Parallel.For(0, blocks, b => winners[b] = TopKInBlock(q, b * BlockRows, Math.Min(count, (b + 1) * BlockRows), k, allowedDocumentIds));

            return winners.SelectMany(w => w)
                .OrderByDescending(w => w.Score).ThenBy(w => w.Row)
                .Take(k)
                .Select(w => new DenseMatch(_chunkIds[w.Row], _documentIds[w.Row], w.Score))
                .ToList();
        }
        finally { _lock.ExitReadLock(); }
    }

    // Called under the read lock: rows cannot change, only the mirror is (re)built, under its own lock.
    private List<DenseMatch> TopKOnGpu(ReadOnlySpan<float> query, int k, int count, IReadOnlySet<string>? allowed)
    {
        using var scope = NewDisposeScope();
        Tensor rows;
        lock (_gpuLock)
        {
            _gpuRows ??= tensor(_rows.AsSpan(0, count * Dimension).ToArray(), [count, Dimension]).to(_gpu!).DetachFromDisposeScope();
            rows = _gpuRows.alias();
        }
        var scores = rows.mv(tensor(query.ToArray()).to(_gpu!));
        if (allowed is not null)
        {
            var keep = Enumerable.Range(0, count).Select(row => allowed.Contains(_documentIds[row])).ToArray();
            scores = scores.masked_fill(tensor(keep).to(_gpu!).logical_not(), float.NegativeInfinity);
        }
        var (values, indices) = scores.topk(Math.Min(k, count));
        var best = values.cpu().data<float>().ToArray();
        var bestRows = indices.cpu().data<long>().ToArray();
        return best.Zip(bestRows)
            .Where(pair => !float.IsNegativeInfinity(pair.First))
            .Select(pair => new DenseMatch(_chunkIds[(int)pair.Second], _documentIds[(int)pair.Second], pair.First))
            .ToList();
    }

    private void InvalidateGpuCopy()
    {
        lock (_gpuLock)
        {
            _gpuRows?.Dispose();
            _gpuRows = null;
        }
    }

    private (int Row, float Score)[] TopKInBlock(float[] query, int start, int end, int k, IReadOnlySet<string>? allowed)
    {
        var dimension = query.Length;
        var heap = new PriorityQueue<int, float>(Math.Min(k, end - start) + 1); // min-heap: root is the weakest winner
        for (var row = start; row < end; row++)
        {
            if (allowed is not null && !allowed.Contains(_documentIds[row])) continue;
            var score = TensorPrimitives.Dot(query, _rows.AsSpan(row * dimension, dimension));
            if (heap.Count < k) heap.Enqueue(row, score);
            else if (heap.TryPeek(out _, out var weakest) && score > weakest) heap.EnqueueDequeue(row, score);
        }
        var result = new (int, float)[heap.Count];
        var i = 0;
        while (heap.TryDequeue(out var row, out var score)) result[i++] = (row, score);
        return result;
    }

    private void RemoveDocumentLocked(string documentId)
    {
        if (!_chunksOfDocument.Remove(documentId, out var chunkIds)) return;
        foreach (var chunkId in chunkIds) RemoveRowLocked(chunkId);
        if (_chunkIds.Count == 0) Dimension = 0;
    }

    // Swap-remove: the last row moves into the hole, so removal costs one row copy.
    private void RemoveRowLocked(string chunkId)
    {
        if (!_rowOfChunk.Remove(chunkId, out var row)) return;
        var last = _chunkIds.Count - 1;
        if (row != last)
        {
            _rows.AsSpan(last * Dimension, Dimension).CopyTo(_rows.AsSpan(row * Dimension, Dimension));
            _chunkIds[row] = _chunkIds[last];
            _documentIds[row] = _documentIds[last];
            _rowOfChunk[_chunkIds[row]] = row;
        }
        _chunkIds.RemoveAt(last);
        _documentIds.RemoveAt(last);
    }

    private void EnsureCapacity(int rows)
    {
        var needed = (long)rows * Dimension;
        if (needed <= _rows.Length) return;
        var grown = Math.Max(needed, Math.Max(1024L, (long)_rows.Length * 2));
        Array.Resize(ref _rows, checked((int)Math.Min(grown, Array.MaxLength)));
    }

    public void Dispose()
    {
        InvalidateGpuCopy();
        _lock.Dispose();
    }
}
