using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Api;

/// <summary>Limits on request values that the ask pipeline does not already check (search queries, paging).</summary>
public static class RequestLimits
{
    public const int MaxPageSize = 500;

    public static string Query(string? query, AskOptions limits)
    {
        if (string.IsNullOrWhiteSpace(query)) throw new RagInputException("query is empty.");
        if (query.Length > limits.MaxQuestionChars)
            throw new RagInputException($"query has {query.Length} characters; the limit is {limits.MaxQuestionChars} (Ask:MaxQuestionChars).");
        return query;
    }

    public static int K(int? k, AskOptions limits)
    {
        int value = k ?? limits.DefaultK;
        if (value < 1 || value > limits.MaxK)
            throw new RagInputException($"k must be between 1 and {limits.MaxK} (Ask:MaxK); got {value}.");
        return value;
    }

    public static (int Skip, int Take) Page(int? skip, int? take)
    {
        if (skip < 0) throw new RagInputException($"skip must be >= 0; got {skip}.");
        if (take is < 1 or > MaxPageSize) throw new RagInputException($"take must be between 1 and {MaxPageSize}; got {take}.");
        return (skip ?? 0, take ?? 50);
    }
}
