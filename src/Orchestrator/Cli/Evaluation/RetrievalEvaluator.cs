using System.Diagnostics;
using Microsoft.Extensions.AI;
using Rag.Ingest.Pipeline;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Embeddings;

namespace Rag.Orchestrator.Evaluation;

/// <summary>
/// Ingests a SQuAD-format dataset's paragraphs as documents into a store, asks every question and
/// scores where the question's own paragraph ranks (documents counted once, in hit order).
/// </summary>
public sealed class RetrievalEvaluator(IDocumentStore store, IngestPipeline ingest, IEmbeddingGenerator<string, Embedding<float>>? embedder = null)
{
    public const int Depth = 100;

    /// <summary>Each paragraph ingested as a text document through the ingestion pipeline (chunk, embed, hash, upsert) over the evaluated store.</summary>
    public async Task IngestAsync(SquadDataset dataset, CancellationToken cancellationToken = default)
    {
        foreach (var paragraph in dataset.Paragraphs)
            await ingest.IngestTextAsync(paragraph.Context, SourceOf(paragraph.Id), paragraph.Title, cancellationToken: cancellationToken);
    }

    public async Task<RetrievalMetrics> EvaluateAsync(SquadDataset dataset, SearchMode mode, CancellationToken cancellationToken = default)
    {
        if (mode != SearchMode.Bm25 && embedder is null)
            throw new InvalidOperationException($"Mode {mode} needs an embedding model: set Embeddings:ModelDirectory.");
        var ranks = new List<int?>();
        var watch = Stopwatch.StartNew();
        foreach (var question in dataset.Questions)
        {
            ReadOnlyMemory<float> vector = mode == SearchMode.Bm25
                ? default
                : (await embedder!.GenerateAsync([question.Question], EmbeddingInputType.ForQuery(), cancellationToken))[0].Vector;
            var hits = await store.SearchAsync(new SearchQuery(question.Question, vector, Depth, mode), cancellationToken);
            var documents = hits.Select(h => h.Source).Distinct().ToList();
            int index = documents.IndexOf(SourceOf(question.ParagraphId));
            ranks.Add(index < 0 ? null : index + 1);
        }
        return RetrievalMetrics.From(ranks, watch.Elapsed);
    }

    private static string SourceOf(string paragraphId) => $"squad:{paragraphId}";
}
