using Rag.Orchestrator.Evaluation;

namespace Rag.Orchestrator.Tests;

public class RetrievalMetricsTests
{
    [Fact]
    public void Recall_and_mrr_match_hand_computed_values()
    {
        // Ranks of each question's paragraph: 1, 3, 12, not found, 150 (outside every cutoff).
        int?[] ranks = [1, 3, 12, null, 150];
        var m = RetrievalMetrics.From(ranks, TimeSpan.FromSeconds(2));

        Assert.Equal(5, m.Questions);
        Assert.Equal(1 / 5.0, m.RecallAt1, 12);
        Assert.Equal(2 / 5.0, m.RecallAt5, 12);
        Assert.Equal(3 / 5.0, m.RecallAt20, 12);
        Assert.Equal(3 / 5.0, m.RecallAt100, 12);
        Assert.Equal((1 + 1 / 3.0) / 5, m.MrrAt10, 12); // rank 12 is beyond MRR@10
        Assert.Equal(2.5, m.QueriesPerSecond, 12);
    }

    [Fact]
    public void Squad_file_is_flattened_into_paragraphs_and_questions()
    {
        var data = SquadDataset.Load(TestData.Path("squad", "tiny-squad.json"));

        Assert.Equal(3, data.Paragraphs.Count);
        Assert.Equal(5, data.Questions.Count);
        Assert.Equal("Lighthouses", data.Paragraphs[1].Title);
        Assert.Equal(data.Paragraphs[2].Id, data.Questions.Single(q => q.Id == "q4").ParagraphId);
    }

    [Fact]
    public void A_file_that_is_not_squad_is_rejected_with_its_name()
    {
        var path = Path.Combine(Path.GetTempPath(), $"not-squad-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\"articles\": []}");
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => SquadDataset.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("data", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
