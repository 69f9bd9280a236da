using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using Rag.Ingest.Chunking;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Embeddings;

namespace Rag.Orchestrator.Evaluation;

/// <summary>
/// Ingests a SQuAD-format dataset's paragraphs as documents into a store, asks every question and
/// scores where the question's own paragraph ranks (documents counted once, in hit order).
/// </summary>
public sealed class RetrievalEvaluator(IDocumentStore store, TokenChunker chunker, IEmbeddingGenerator<string, Embedding<float>>? embedder = null)
{
    public const int Depth = 100;

    public async Task IngestAsync(SquadDataset dataset, CancellationToken cancellationToken = default)
    {
        foreach (var paragraph in dataset.Paragraphs)
        {
            var chunks = chunker.Chunk(paragraph.Context);
            var vectors = embedder is null
                ? null
                : await embedder.GenerateAsync(chunks.Select(c => c.Text), EmbeddingInputType.ForPassage(), cancellationToken);
            var inputs = chunks.Select((c, i) => new ChunkInput(c.Ordinal, c.Text, c.TokenCount, c.StartOffset, c.EndOffset,
                vectors?[i].Vector ?? ReadOnlyMemory<float>.Empty)).ToList();
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(paragraph.Context)));
            await store.UpsertAsync(new DocumentInput(SourceOf(paragraph.Id), hash, paragraph.Title, [], inputs), cancellationToken);
        }
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
