using System.Diagnostics;
using Microsoft.Extensions.Options;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Embedded;

namespace Rag.Retrieval.Benchmarks;

/// <summary>One measurement: ingest rows carry a rate, query rows carry latency percentiles over Samples queries.</summary>
public sealed record RetrievalBenchmarkRow(
    string Operation,
    int Chunks,
    int Dimension,
    int K,
    int Samples,
    double? ChunksPerSecond,
    double? P50Milliseconds,
    double? P95Milliseconds);

/// <summary>
/// Measures the embedded store on synthetic data: ingest rate, then end-to-end latency (index scan plus the
/// SQL that fetches the hits) of exact dense top-k and of BM25, for each k.
/// </summary>
public static class RetrievalBenchmark
{
    private const int ChunksPerDocument = 16;
    private const int WordsPerChunk = 60;
    private const int VocabularySize = 5000;
    private const int QueriesPerK = 50;
    // Untimed queries first, so the percentiles measure optimised (tier-1 JIT) code and warm caches.
    private const int WarmupQueries = 10;
    private const string FileName = "retrieval-benchmark.db";

    public static IReadOnlyList<RetrievalBenchmarkRow> Run(int chunks, int dim, int[] ks, string dataDirectory, Action<string>? progress, string device = "cpu")
    {
        if (chunks < 1) throw new ArgumentOutOfRangeException(nameof(chunks), chunks, "chunks must be >= 1.");
        if (dim < 1) throw new ArgumentOutOfRangeException(nameof(dim), dim, "dim must be >= 1.");
        if (ks.Length == 0 || ks.Any(k => k < 1)) throw new ArgumentException($"ks must be non-empty and positive (was [{string.Join(", ", ks)}]).", nameof(ks));

        DeleteDatabase(dataDirectory);
        var random = new Random(42);
        var rows = new List<RetrievalBenchmarkRow>();
        var store = new SqliteDocumentStore(Options.Create(new EmbeddedStoreOptions { DataDirectory = dataDirectory, FileName = FileName, Device = device }));
        try
        {
            var ingest = Stopwatch.StartNew();
            for (var start = 0; start < chunks; start += ChunksPerDocument)
            {
                var count = Math.Min(ChunksPerDocument, chunks - start);
                store.UpsertAsync(SyntheticDocument(random, start / ChunksPerDocument, count, dim)).GetAwaiter().GetResult();
                if ((start / ChunksPerDocument) % 500 == 0) progress?.Invoke($"ingested {start}/{chunks} chunks");
            }
            ingest.Stop();
            rows.Add(new RetrievalBenchmarkRow("ingest", chunks, dim, 0, chunks, chunks / ingest.Elapsed.TotalSeconds, null, null));
            progress?.Invoke($"ingest: {rows[^1].ChunksPerSecond:F0} chunks/s");

            // The first dense query loads the in-memory index; keep that out of the percentiles.
            Query(store, new SearchQuery("", RandomVector(random, dim), 1, SearchMode.Dense));
            foreach (var k in ks)
            {
                rows.Add(Measure($"dense-exact-{device}", chunks, dim, k, () => new SearchQuery("", RandomVector(random, dim), k, SearchMode.Dense), store));
                rows.Add(Measure("bm25", chunks, dim, k, () => new SearchQuery(RandomText(random, 3), default, k, SearchMode.Bm25), store));
                progress?.Invoke($"k={k}: dense p50 {rows[^2].P50Milliseconds:F2} ms, bm25 p50 {rows[^1].P50Milliseconds:F2} ms");
            }
            return rows;
        }
        finally
        {
            store.DisposeAsync().AsTask().GetAwaiter().GetResult();
            DeleteDatabase(dataDirectory);
        }
    }

    private static RetrievalBenchmarkRow Measure(string operation, int chunks, int dim, int k, Func<SearchQuery> next, IDocumentStore store)
    {
        for (var i = 0; i < WarmupQueries; i++) Query(store, next());
        var milliseconds = new double[QueriesPerK];
        for (var i = 0; i < QueriesPerK; i++)
        {
            var query = next();
            var watch = Stopwatch.StartNew();
            Query(store, query);
            milliseconds[i] = watch.Elapsed.TotalMilliseconds;
        }
        Array.Sort(milliseconds);
        return new RetrievalBenchmarkRow(operation, chunks, dim, k, QueriesPerK, null, Percentile(milliseconds, 0.50), Percentile(milliseconds, 0.95));
    }

    private static void Query(IDocumentStore store, SearchQuery query) => store.SearchAsync(query).GetAwaiter().GetResult();

    /// <summary>Nearest-rank percentile of sorted samples.</summary>
    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static DocumentInput SyntheticDocument(Random random, int index, int count, int dim)
    {
        var chunks = new List<ChunkInput>(count);
        var offset = 0;
        for (var ordinal = 0; ordinal < count; ordinal++)
        {
            var text = RandomText(random, WordsPerChunk);
            chunks.Add(new ChunkInput(ordinal, text, WordsPerChunk, offset, offset + text.Length, RandomVector(random, dim)));
            offset += text.Length + 1;
        }
        return new DocumentInput($"synthetic/{index:D7}.txt", $"hash-{index}", $"Synthetic {index}", ["synthetic"], chunks);
    }

    // Zipf-like word choice (squaring a uniform draw favours low ids), so BM25 sees common and rare terms.
    private static string RandomText(Random random, int words) =>
        string.Join(' ', Enumerable.Range(0, words).Select(_ => $"w{(int)(Math.Pow(random.NextDouble(), 2) * VocabularySize)}"));

    private static float[] RandomVector(Random random, int dim)
    {
        var v = new float[dim];
        for (var i = 0; i < dim; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
        return v;
    }

    private static void DeleteDatabase(string dataDirectory)
    {
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            var path = Path.Combine(dataDirectory, FileName + suffix);
            if (File.Exists(path)) File.Delete(path);
        }
    }
}
