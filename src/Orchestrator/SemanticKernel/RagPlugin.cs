using System.ComponentModel;
using Microsoft.SemanticKernel;
using Rag.Ingest.Pipeline;
using Rag.Orchestrator.Answering;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Plugins;

/// <summary>
/// The knowledge base as Semantic Kernel functions for planners and agents: search it, ask it,
/// add text to it, read a stored document. Bad input throws <see cref="RagInputException"/> or
/// <see cref="ArgumentException"/> naming the rule.
/// </summary>
public sealed class RagPlugin(AskService ask, RagAskFunctions askFunctions, IngestPipeline ingest, IDocumentStore store)
{
    public const string PluginName = "rag";

    [KernelFunction("search")]
    [Description("Searches the knowledge base and returns the passages most relevant to a query, best first, each with its " +
        "source, documentId, chunk position, relevance score and text. Use it to find facts or documents; it does not write an answer.")]
    public async Task<IReadOnlyList<RagPassage>> SearchAsync(
        [Description("What to look for: keywords or a natural-language question; not empty, at most 4000 characters (Ask:MaxQuestionChars).")] string query,
        [Description("How many passages to return, 1 to 1024 (Ask:MaxK).")] int k = 8,
        [Description("Only passages of documents carrying at least one of these tags (one tag, or a list of tags); omit to search everything.")] RagTags? tags = null,
        CancellationToken cancellationToken = default)
    {
        var retrieved = await ask.SearchAsync(query, k, filter: TagFilter(tags), cancellationToken: cancellationToken);
        return retrieved.Hits.Select((hit, i) => RagPassage.From(i + 1, hit)).ToList();
    }

    [KernelFunction("ask")]
    [Description("Answers a question from the knowledge base: retrieves passages, then writes an answer that cites them by number " +
        "([1], [2]…), and returns the answer with the numbered citations. When no generator model is configured it returns no answer, " +
        "a notice saying so and the retrieved passages; it never invents an answer. Use it for questions that need a written answer.")]
    public Task<RagAnswer> AskAsync(
        Kernel kernel,
        [Description("The question, in natural language; not empty, at most 4000 characters (Ask:MaxQuestionChars).")] string question,
        [Description("How many passages to retrieve before packing the prompt, 1 to 1024 (Ask:MaxK); omit for 64 (Ask:DefaultK).")] int? k = null,
        CancellationToken cancellationToken = default) =>
        askFunctions.AskAsync(kernel, question, k, cancellationToken);

    [KernelFunction("ingest_text")]
    [Description("Adds text to the knowledge base, chunked and indexed so that search and ask find it. The source is its key: " +
        "the same source with the same text changes nothing (Unchanged), new text for a known source replaces the old (Replaced), " +
        "otherwise it is Added. Returns the outcome and the documentId.")]
    public async Task<RagIngestResult> IngestTextAsync(
        [Description("The document text; not empty, no NUL characters.")] string text,
        [Description("A unique, stable name for the document, e.g. a URL or 'notes/meeting-2024-05-01'; not empty.")] string source,
        [Description("Labels to filter searches by later (one tag, or a list of tags); optional, each not empty.")] RagTags? tags = null,
        CancellationToken cancellationToken = default)
    {
        var checkedTags = CheckTags(tags);
        var outcome = await ingest.IngestTextAsync(text, source, tags: checkedTags, cancellationToken: cancellationToken);
        var stored = await store.FindBySourceAsync(source, cancellationToken)
            ?? throw new InvalidOperationException($"Document '{source}' was stored ({outcome}) but cannot be found again.");
        return new RagIngestResult(stored.Source, stored.Id, outcome, stored.ChunkCount);
    }

    [KernelFunction("get_document")]
    [Description("Reads one stored document: its source, title, tags, last update and the text of all its chunks in order. " +
        "Use it to see the full context of a passage found by search; the id is the documentId of a search result.")]
    public async Task<RagDocument> GetDocumentAsync(
        [Description("The documentId of a search or ask result.")] string id,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(id)) throw new RagInputException("The document id is empty; use the documentId of a search result.");
        var document = await store.GetDocumentAsync(id, cancellationToken)
            ?? throw new RagInputException($"Document '{id}' was not found; use the documentId of a search result.");
        var chunks = await store.GetChunksAsync(id, cancellationToken);
        return new RagDocument(document.Id, document.Source, document.Title, document.Tags, document.UpdatedAt,
            chunks.OrderBy(c => c.Ordinal).Select(c => new RagDocumentChunk(c.Ordinal, c.Text)).ToList());
    }

    private static SearchFilter? TagFilter(RagTags? tags) => CheckTags(tags) is { Count: > 0 } checkedTags ? new SearchFilter(Tags: checkedTags) : null;

    private static IReadOnlyList<string> CheckTags(RagTags? tags) => RequestRules.Tags(tags?.Values);
}
