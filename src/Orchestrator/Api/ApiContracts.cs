using Rag.Orchestrator.Answering;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Api;

/// <summary>Payload filters of search and ask; every field given must match.</summary>
public sealed record ApiFilter(
    IReadOnlyList<string>? Tags = null,
    IReadOnlyList<string>? DocumentIds = null,
    string? SourcePrefix = null,
    DateTimeOffset? UpdatedFrom = null,
    DateTimeOffset? UpdatedTo = null)
{
    public static SearchFilter? ToSearchFilter(ApiFilter? filter)
    {
        if (filter is null) return null;
        if (filter.UpdatedFrom > filter.UpdatedTo)
            throw new RagInputException($"filters.updated_from ({filter.UpdatedFrom:O}) is after filters.updated_to ({filter.UpdatedTo:O}).");
        return new SearchFilter(filter.DocumentIds, filter.Tags, filter.SourcePrefix, filter.UpdatedFrom, filter.UpdatedTo);
    }
}

/// <summary>A numbered passage behind an answer: the [Number] markers of the answer refer to it.</summary>
public sealed record ApiCitation(int Number, string DocumentId, string ChunkId, string Source, int Ordinal, double Score, string Snippet)
{
    public static IReadOnlyList<ApiCitation> From(IReadOnlyList<Citation> citations) =>
        citations.Select(c => new ApiCitation(c.Number, c.DocumentId, c.ChunkId, c.Source, c.Ordinal, c.Score, c.Snippet)).ToList();
}

public sealed record SearchRequest(string? Query, int? K = null, ApiFilter? Filters = null, SearchMode? Mode = null);

public sealed record SearchResponse(SearchMode Mode, IReadOnlyList<ApiSearchHit> Hits);

public sealed record ApiSearchHit(string ChunkId, string DocumentId, string Source, string? Title, int Ordinal, double Score, string Text);

public sealed record AskApiRequest(string? Question, int? K = null, ApiFilter? Filters = null, bool Stream = false);

/// <param name="Answer">Null when no generator is configured; <paramref name="Notice"/> then says why.</param>
/// <param name="Usage">Tokens the answer read and wrote; null when nothing was generated.</param>
public sealed record AskApiResponse(string? Answer, IReadOnlyList<ApiCitation> Citations, SearchMode Mode, string? Notice, AskUsage? Usage = null);

/// <summary>Token counts of one answer, as the generator's tokenizer counts them.</summary>
public sealed record AskUsage(long PromptTokens, long CompletionTokens)
{
    public static AskUsage? From(Microsoft.Extensions.AI.UsageDetails? usage) =>
        usage is null ? null : new AskUsage(usage.InputTokenCount ?? 0, usage.OutputTokenCount ?? 0);
}

/// <summary>A piece of a streamed answer ("token" event).</summary>
public sealed record AskStreamToken(string Text);

/// <summary>The closing event of a streamed ask: what the streamed text cites.</summary>
public sealed record AskStreamEnd(IReadOnlyList<ApiCitation> Citations, SearchMode Mode, string? Notice, string? FinishReason);

public sealed record UploadDocumentsRequest(IReadOnlyList<UploadDocument>? Documents, IReadOnlyList<string>? Tags = null);

public sealed record UploadDocument(string? Source, string? Text, string? Title = null);

/// <summary>One passage of a document, as the chat page opens a citation.</summary>
public sealed record ApiChunk(string ChunkId, string DocumentId, int Ordinal, string Text, int TokenCount);

public sealed record JobAccepted(string JobId);

public sealed record DocumentList(IReadOnlyList<DocumentInfo> Documents, int Skip, int Take);
