using Microsoft.Extensions.DependencyInjection;
using Rag.Ingest.Pipeline;
using Rag.Orchestrator.Evaluation;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Embedded;

namespace Rag.Orchestrator.Tests;

public class RetrievalEvaluationTests
{
    [Fact]
    public async Task Bm25_on_the_tiny_squad_file_matches_the_hand_computed_figures()
    {
        // Every question of tests/data/squad/tiny-squad.json shares rare words only with its own paragraph
        // (Fresnel/lighthouses, ships at night, keepers/twentieth century, honeybees/flowers, angle/sun),
        // so by hand: each ranks its paragraph first → recall@1 = recall@100 = MRR@10 = 1.
        await using var host = new RagTestHost();
        var directory = Path.Combine(Path.GetTempPath(), $"rag-eval-test-{Guid.NewGuid():N}");
        try
        {
            await using (var store = SqliteDocumentStore.Open(directory))
            {
                var data = SquadDataset.Load(TestData.Path("squad", "tiny-squad.json"));
                var evaluator = new RetrievalEvaluator(store, ActivatorUtilities.CreateInstance<IngestPipeline>(host.Services, (IDocumentStore)store));
                await evaluator.IngestAsync(data);

                var metrics = await evaluator.EvaluateAsync(data, SearchMode.Bm25);

                Assert.Equal(5, metrics.Questions);
                Assert.Equal(1.0, metrics.RecallAt1);
                Assert.Equal(1.0, metrics.RecallAt100);
                Assert.Equal(1.0, metrics.MrrAt10);
                await Assert.ThrowsAsync<InvalidOperationException>(() => evaluator.EvaluateAsync(data, SearchMode.Dense));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
