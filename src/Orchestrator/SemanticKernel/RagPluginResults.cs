using System.Text.Json.Serialization;
using Rag.Orchestrator.Answering;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Plugins;

/// <summary>A passage as a kernel function returns it: Number is its rank (search) or citation marker (ask).</summary>
/// <param name="Chunk">Position of the passage in its document (0-based).</param>
public sealed record RagPassage(int Number, string DocumentId, string Source, string? Title, int Chunk, double Score, string Text)
{
    public static RagPassage From(int number, SearchHit hit) =>
        new(number, hit.DocumentId, hit.Source, hit.Title, hit.Ordinal, hit.Score, hit.Text.Trim());
}

/// <summary>
/// The outcome of ask: an answer citing <see cref="Citations"/> by number, or, without a generator, no answer,
/// the <see cref="Notice"/> and the retrieved passages in full.
/// </summary>
public sealed record RagAnswer(string? Answer, string? Notice, IReadOnlyList<RagPassage> Citations)
{
    public static RagAnswer Answered(string answer, AskContext context) =>
        new(answer, null, context.Citations.Select(c => new RagPassage(c.Number, c.DocumentId, c.Source, c.Title, c.Ordinal, c.Score, c.Snippet)).ToList());

    public static RagAnswer WithoutModel(AskContext context) =>
        new(null, AskService.NoModelNotice, context.Passages.Select((hit, i) => RagPassage.From(i + 1, hit)).ToList());
}

/// <param name="Outcome">Added (new source), Unchanged (same text already stored) or Replaced (new text for a known source).</param>
public sealed record RagIngestResult(
    string Source,
    string DocumentId,
    [property: JsonConverter(typeof(JsonStringEnumConverter<UpsertOutcome>))] UpsertOutcome Outcome,
    int ChunkCount);

/// <summary>A stored document and the text of its chunks in order.</summary>
public sealed record RagDocument(string Id, string Source, string? Title, IReadOnlyList<string> Tags, DateTimeOffset UpdatedAt,
    IReadOnlyList<RagDocumentChunk> Chunks);

/// <param name="Chunk">Position in the document (0-based), as in <see cref="RagPassage.Chunk"/>.</param>
public sealed record RagDocumentChunk(int Chunk, string Text);
