namespace Rag.Orchestrator.Evaluation;

/// <summary>Recall@{1,5,20,100} (a hit = the question's own paragraph is retrieved) and MRR@10.</summary>
public sealed record RetrievalMetrics(int Questions, double RecallAt1, double RecallAt5, double RecallAt20, double RecallAt100, double MrrAt10, double QueriesPerSecond)
{
    public static readonly int[] Cutoffs = [1, 5, 20, 100];

    /// <param name="ranks">Per question the 1-based rank of its paragraph, or null when not retrieved.</param>
    public static RetrievalMetrics From(IReadOnlyList<int?> ranks, TimeSpan elapsed)
    {
        int n = ranks.Count;
        double Recall(int k) => n == 0 ? 0 : ranks.Count(r => r <= k) / (double)n;
        double mrr = n == 0 ? 0 : ranks.Sum(r => r is { } rank && rank <= 10 ? 1.0 / rank : 0) / n;
        return new RetrievalMetrics(n, Recall(1), Recall(5), Recall(20), Recall(100), mrr, n / Math.Max(elapsed.TotalSeconds, 1e-9));
    }
}
