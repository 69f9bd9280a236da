using System.Numerics.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace Rag.Retrieval.Embedded;

/// <param name="Key">The caller's integer key of the chunk (the store's rowid), so hits can be fetched by primary key.</param>
public readonly record struct DenseRow(string ChunkId, long Key, float[] Vector);

public readonly record struct DenseMatch(string ChunkId, long Key, string DocumentId, float Score);

/// <summary>
/// Exact in-memory cosine index: rows of L2-normalised vectors in one contiguous float[] (row r at r·dim),
/// with the chunk id and document slot of each row. Top-k scores row blocks in parallel; each worker keeps one
/// bounded min-heap across the blocks it scans, and the few worker heaps are merged at the end. On a CUDA device
/// the rows are mirrored to GPU memory (refreshed after writes) and a query is one matrix-vector product plus topk.
/// </summary>
public sealed class DenseIndex(Device? device = null) : IDisposable
{
    // 2048 rows × 384 floats = 3 MiB per block: big enough to amortise scheduling, small enough to balance 2+ cores.
    private const int BlockRows = 2048;

    private readonly ReaderWriterLockSlim _lock = new();
    private float[] _rows = [];
    private readonly List<string> _chunkIds = [];
    private readonly List<long> _keys = [];
    // Rows name their document by a small integer slot, so a filter is a bool[] lookup rather than a string hash per row.
    private readonly List<int> _slotOfRow = [];
    private readonly List<string?> _documentOfSlot = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly Dictionary<string, (int Slot, List<string> ChunkIds)> _documents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _rowOfChunk = new(StringComparer.Ordinal);
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
    public void SetDocument(string documentId, IReadOnlyList<DenseRow> rows)
    {
        _lock.EnterWriteLock();
        try
        {
            // Validate before removing anything. The document's own rows do not pin the dimension:
            // replacing the only document may change it.
            var pinned = _chunkIds.Count > RowsOf(documentId) ? Dimension : 0;
            var dimension = pinned != 0 ? pinned : rows.Count > 0 ? rows[0].Vector.Length : 0;
            foreach (var (chunkId, _, vector) in rows)
            {
                if (vector.Length != dimension)
                    throw new ArgumentException(
                        $"Vector of chunk '{chunkId}' has dimension {vector.Length} but the index holds dimension {dimension}.");
            }
            RemoveDocumentLocked(documentId);
            InvalidateGpuCopy();
            if (rows.Count == 0) return;

            Dimension = dimension;
            var slot = _freeSlots.TryPop(out var free) ? free : _documentOfSlot.Count;
            if (slot == _documentOfSlot.Count) _documentOfSlot.Add(documentId);
            else _documentOfSlot[slot] = documentId;

            EnsureCapacity(_chunkIds.Count + rows.Count);
            var ids = new List<string>(rows.Count);
            foreach (var (chunkId, key, vector) in rows)
            {
                var row = _chunkIds.Count;
                vector.CopyTo(_rows.AsSpan(row * dimension, dimension));
                _chunkIds.Add(chunkId);
                _keys.Add(key);
                _slotOfRow.Add(slot);
                _rowOfChunk[chunkId] = row;
                ids.Add(chunkId);
            }
            _documents[documentId] = (slot, ids);
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Allocates room for <paramref name="rows"/> vectors up front, so a bulk load copies nothing while growing.</summary>
    public void Reserve(int rows, int dimension)
    {
        _lock.EnterWriteLock();
        try
        {
            if (Dimension != 0 && Dimension != dimension)
                throw new ArgumentException($"Cannot reserve vectors of dimension {dimension}: the index holds dimension {Dimension}.");
            var needed = (long)rows * dimension;
            if (needed > Array.MaxLength)
                throw new InvalidOperationException(
                    $"The dense index cannot hold {rows} vectors of dimension {dimension}: more than {Array.MaxLength} floats.");
            if (needed > _rows.Length) Array.Resize(ref _rows, (int)needed);
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

    /// <summary>The k rows with the highest dot product with the (normalised) query, best first; ties go to the older row.</summary>
    /// <param name="allowedDocumentIds">When given, only rows of these documents compete.</param>
    public IReadOnlyList<DenseMatch> TopK(ReadOnlySpan<float> query, int k, IReadOnlySet<string>? allowedDocumentIds = null)
    {
        _lock.EnterReadLock();
        try
        {
            var count = _chunkIds.Count;
            if (k <= 0 || count == 0) return [];
            k = Math.Min(k, count); // heaps are sized by k
            if (query.Length != Dimension)
                throw new ArgumentException(
                    $"Query vector has dimension {query.Length} but the index holds vectors of dimension {Dimension}.", nameof(query));

            var allowedSlots = allowedDocumentIds is null ? null : AllowedSlots(allowedDocumentIds);
            if (_gpu is not null) return TopKOnGpu(query, k, count, allowedSlots);
            var q = query.ToArray(); // spans cannot cross into the parallel lambda
            var workerHeaps = new List<TopKHeap>();
            // Each worker owns a heap and a score buffer for one block.
            Parallel.For(0, (count + BlockRows - 1) / BlockRows,
                () => (Heap: new TopKHeap(k), Scores: new float[BlockRows]),
                (block, _, worker) =>
                {
                    ScanBlock(q, block * BlockRows, Math.Min(count, (block + 1) * BlockRows), allowedSlots, worker.Heap, worker.Scores);
                    return worker;
                },
                worker => { lock (workerHeaps) workerHeaps.Add(worker.Heap); });

            var merged = new TopKHeap(k);
            foreach (var heap in workerHeaps) merged.OfferAll(heap);
            return merged.BestFirst().Select(m => MatchOf(m.Row, m.Score)).ToList();
        }
        finally { _lock.ExitReadLock(); }
    }

    // Called under the read lock: rows cannot change, only the mirror is (re)built, under its own lock.
    private List<DenseMatch> TopKOnGpu(ReadOnlySpan<float> query, int k, int count, bool[]? allowedSlots)
    {
        using var scope = NewDisposeScope();
        Tensor rows;
        lock (_gpuLock)
        {
            _gpuRows ??= tensor(_rows.AsSpan(0, count * Dimension).ToArray(), [count, Dimension]).to(_gpu!).DetachFromDisposeScope();
            rows = _gpuRows.alias();
        }
        var scores = rows.mv(tensor(query.ToArray()).to(_gpu!));
        if (allowedSlots is not null)
        {
            var keep = Enumerable.Range(0, count).Select(row => allowedSlots[_slotOfRow[row]]).ToArray();
            scores = scores.masked_fill(tensor(keep).to(_gpu!).logical_not(), float.NegativeInfinity);
        }
        var (values, indices) = scores.topk(k);
        var best = values.cpu().data<float>().ToArray();
        var bestRows = indices.cpu().data<long>().ToArray();
        return best.Zip(bestRows)
            .Where(pair => !float.IsNegativeInfinity(pair.First))
            .Select(pair => MatchOf((int)pair.Second, pair.First))
            .ToList();
    }

    private DenseMatch MatchOf(int row, float score) => new(_chunkIds[row], _keys[row], _documentOfSlot[_slotOfRow[row]]!, score);

    private void InvalidateGpuCopy()
    {
        lock (_gpuLock)
        {
            _gpuRows?.Dispose();
            _gpuRows = null;
        }
    }

    private void ScanBlock(float[] query, int start, int end, bool[]? allowedSlots, TopKHeap heap, float[] scoreBuffer)
    {
        var dimension = query.Length;
        var rows = _rows.AsSpan(start * dimension, (end - start) * dimension);
        var scores = scoreBuffer.AsSpan(0, end - start);
        for (var i = 0; i < scores.Length; i++)
            scores[i] = TensorPrimitives.Dot(query, rows.Slice(i * dimension, dimension));
        for (var i = 0; i < scores.Length; i++)
        {
            if (allowedSlots is not null && !allowedSlots[_slotOfRow[start + i]]) continue;
            heap.Offer(start + i, scores[i]);
        }
    }

    private bool[] AllowedSlots(IReadOnlySet<string> documentIds)
    {
        var allowed = new bool[_documentOfSlot.Count];
        foreach (var id in documentIds)
            if (_documents.TryGetValue(id, out var document)) allowed[document.Slot] = true;
        return allowed;
    }

    private int RowsOf(string documentId) => _documents.TryGetValue(documentId, out var d) ? d.ChunkIds.Count : 0;

    private void RemoveDocumentLocked(string documentId)
    {
        if (!_documents.Remove(documentId, out var document)) return;
        foreach (var chunkId in document.ChunkIds) RemoveRowLocked(chunkId);
        _documentOfSlot[document.Slot] = null;
        _freeSlots.Push(document.Slot);
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
            _keys[row] = _keys[last];
            _slotOfRow[row] = _slotOfRow[last];
            _rowOfChunk[_chunkIds[row]] = row;
        }
        _chunkIds.RemoveAt(last);
        _keys.RemoveAt(last);
        _slotOfRow.RemoveAt(last);
    }

    private void EnsureCapacity(int rows)
    {
        var needed = (long)rows * Dimension;
        if (needed <= _rows.Length) return;
        if (needed > Array.MaxLength)
            throw new InvalidOperationException(
                $"The dense index cannot hold {rows} vectors of dimension {Dimension}: more than {Array.MaxLength} floats.");
        var grown = Math.Max(needed, Math.Max(1024L, (long)_rows.Length * 2));
        Array.Resize(ref _rows, (int)Math.Min(grown, Array.MaxLength));
    }

    public void Dispose()
    {
        InvalidateGpuCopy();
        _lock.Dispose();
    }
}
