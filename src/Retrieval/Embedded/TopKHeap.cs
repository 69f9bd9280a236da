namespace Rag.Retrieval.Embedded;

/// <summary>
/// Bounded min-heap of the k best (row, score) pairs seen so far: the root is the weakest winner, so a new
/// candidate costs one comparison unless it beats the root. Lower score is weaker; on equal scores the higher
/// row is weaker, which makes the result independent of scan order.
/// </summary>
internal sealed class TopKHeap
{
    private readonly int _k;
    private readonly PriorityQueue<int, (float Score, int Row)> _heap;

    public TopKHeap(int k)
    {
        _k = k;
        _heap = new PriorityQueue<int, (float Score, int Row)>(k + 1, WeakerFirst.Instance);
    }

    // Score of the root once the heap is full; most candidates of a long scan lose against it.
    private float _threshold = float.NegativeInfinity;

    public void Offer(int row, float score)
    {
        if (score < _threshold) return;
        if (_heap.Count < _k)
        {
            _heap.Enqueue(row, (score, row));
        }
        else
        {
            _heap.TryPeek(out _, out var weakest);
            if (score == weakest.Score && row > weakest.Row) return;
            _heap.EnqueueDequeue(row, (score, row));
        }
        if (_heap.Count == _k && _heap.TryPeek(out _, out var root)) _threshold = root.Score;
    }

    public void OfferAll(TopKHeap other)
    {
        foreach (var (_, entry) in other._heap.UnorderedItems) Offer(entry.Row, entry.Score);
    }

    public List<(int Row, float Score)> BestFirst()
    {
        var result = new List<(int Row, float Score)>(_heap.Count);
        while (_heap.TryDequeue(out _, out var entry)) result.Add((entry.Row, entry.Score));
        result.Reverse();
        return result;
    }

    private sealed class WeakerFirst : IComparer<(float Score, int Row)>
    {
        public static readonly WeakerFirst Instance = new();

        public int Compare((float Score, int Row) x, (float Score, int Row) y)
        {
            var byScore = x.Score.CompareTo(y.Score);
            return byScore != 0 ? byScore : y.Row.CompareTo(x.Row);
        }
    }
}
