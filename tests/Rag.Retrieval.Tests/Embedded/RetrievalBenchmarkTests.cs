using Rag.Retrieval.Benchmarks;

namespace Rag.Retrieval.Tests.Embedded;

public sealed class RetrievalBenchmarkTests
{
    [Fact]
    public void Small_run_reports_ingest_and_a_dense_and_bm25_row_per_k_and_cleans_up()
    {
        var directory = Scratch.Path("bench-");
        try
        {
            var messages = new List<string>();
            var rows = RetrievalBenchmark.Run(100, 8, [1, 5], directory, messages.Add);

            Assert.Equal(["ingest", "dense-exact-cpu", "bm25", "dense-exact-cpu", "bm25"], rows.Select(r => r.Operation));
            Assert.Equal([0, 1, 1, 5, 5], rows.Select(r => r.K));
            Assert.True(rows[0].ChunksPerSecond > 0);
            Assert.All(rows.Skip(1), r => Assert.True(r.P50Milliseconds > 0 && r.P95Milliseconds >= r.P50Milliseconds));
            Assert.NotEmpty(messages);
            Assert.Empty(Directory.GetFiles(directory));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}
