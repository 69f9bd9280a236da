using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rag.Generator.Chat;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Search;

namespace Rag.Orchestrator.Answering;

/// <param name="History">Earlier turns of a conversation, kept in the prompt before the question (chat completions).</param>
/// <param name="FollowUpPassages">New passages a remembered follow-up may append; null for Ask:FollowUpPassages.</param>
public sealed record AskRequest(string Question, int? K = null, SearchFilter? Filter = null, ChatOptions? Generation = null,
    IReadOnlyList<ChatMessage>? History = null, int? FollowUpPassages = null);

/// <summary>What an answer is built from: the passages in the prompt and the retrieval mode used.</summary>
public sealed record AskContext(SearchMode Mode, IReadOnlyList<SearchHit> Passages, IReadOnlyList<Citation> Citations, IList<ChatMessage> Prompt);

/// <param name="Answer">Null when no generator is configured: the caller shows <see cref="Notice"/> and the passages.</param>
public sealed record AskResult(string? Answer, AskContext Context, string? Notice, UsageDetails? Usage);

/// <summary>
/// The ask pipeline: retrieve k passages, pack them into the prompt in rank order under a token
/// budget, and generate through <see cref="IChatClient"/>. Without a generator it never invents an answer.
/// </summary>
public sealed class AskService(
    PassageRetriever retriever,
    IOptions<AskOptions> options,
    ILogger<AskService> logger,
    IChatClient? chat = null)
{
    public static readonly ActivitySource Activity = new("Rag.Ask");

    public const string NoModelNotice =
        "No generator model is configured, so no answer was generated. Set Generator:ModelPath (and Generator:VocabPath) " +
        "to an RWKV-7 checkpoint, e.g. environment variables Generator__ModelPath and Generator__VocabPath. Retrieved passages follow.";

    /// <summary>The answer when no passage was retrieved: generating without sources could only make one up.</summary>
    public const string NothingFoundAnswer =
        "Nothing relevant was found in the indexed documents for this question (no passage matched it and its filters), so no answer was generated.";

    public bool HasGenerator => chat is not null;

    /// <summary>Search: the query and k checked by the same rules as a question, then the ranked passages (no packing).</summary>
    public Task<RetrievedPassages> SearchAsync(string? query, int? k, SearchMode? mode = null, SearchFilter? filter = null,
        CancellationToken cancellationToken = default) =>
        retriever.RetrieveAsync(RequestRules.Text(query, "query", options.Value), RequestRules.K(k, options.Value), mode, filter, cancellationToken);

    /// <summary>Retrieve and pack: everything an answer needs except the generation.</summary>
    public async Task<AskContext> PrepareAsync(AskRequest request, CancellationToken cancellationToken = default) =>
        Pack(request.Question, await RetrieveAsync(request, cancellationToken), request.History);

    public async Task<AskResult> AskAsync(AskRequest request, CancellationToken cancellationToken = default)
    {
        var context = await PrepareAsync(request, cancellationToken);
        if (FoundNothing(context)) return new AskResult(NothingFoundAnswer, context, null, null);
        if (chat is null) return new AskResult(null, context, NoModelNotice, null);
        var response = await GenerateAsync(context.Prompt, request.Generation, cancellationToken);
        return new AskResult(response.Text, context, null, response.Usage);
    }

    /// <summary>Step 1: validates the question and k, then retrieves the ranked passages.</summary>
    public async Task<RetrievedPassages> RetrieveAsync(AskRequest request, CancellationToken cancellationToken = default)
    {
        RequestRules.Text(request.Question, "question", options.Value);
        int k = RequestRules.K(request.K, options.Value);
        using var retrieve = Activity.StartActivity("retrieve");
        var retrieved = await retriever.RetrieveAsync(request.Question, k, filter: request.Filter, cancellationToken: cancellationToken);
        retrieve?.SetTag("rag.mode", retrieved.Mode.ToString());
        retrieve?.SetTag("rag.hits", retrieved.Hits.Count);
        return retrieved;
    }

    /// <summary>
    /// Step 2: packs ranked passages into the prompt and numbers them for citation. With a generator, every token is
    /// counted by the generator itself (its tokenizer, its chat format, the headers) and the passages get whatever
    /// Generator:MaxPromptTokens leaves after the rest of the prompt, at most Ask:PromptTokenBudget: a question is
    /// packed smaller, never refused for length. Without one, the ingest-time token counts are used.
    /// </summary>
    public AskContext Pack(string question, RetrievedPassages retrieved, IReadOnlyList<ChatMessage>? history = null)
    {
        RequestRules.Text(question, "question", options.Value);
        using var pack = Activity.StartActivity("pack");
        var counter = chat?.GetService<IPromptTokenCounter>();
        var packed = counter is null
            ? PassagePacker.Pack(retrieved.Hits, options.Value.PromptTokenBudget).Passages.ToList()
            : PackCounted(question, retrieved.Hits, history, counter);
        pack?.SetTag("rag.passages", packed.Count);
        logger.LogInformation("Retrieved {Hits} passages ({Mode}), packed {Packed}", retrieved.Hits.Count, retrieved.Mode, packed.Count);
        return new AskContext(retrieved.Mode, packed, AnswerPrompt.Cite(packed), AnswerPrompt.Build(question, packed, history));
    }

    private List<SearchHit> PackCounted(string question, IReadOnlyList<SearchHit> hits, IReadOnlyList<ChatMessage>? history, IPromptTokenCounter counter)
    {
        int rest = counter.CountPromptTokens(AnswerPrompt.Build(question, [], history));
        int budget = Math.Max(0, Math.Min(options.Value.PromptTokenBudget, counter.MaxPromptTokens - rest));
        // Numbered as the last passage would be, so that no header is counted shorter than it will be.
        var packed = PassagePacker.Pack(hits, budget, hit => counter.CountTokens(AnswerPrompt.Passage(hits.Count, hit))).Passages.ToList();
        // Text counted in pieces can tokenize a little differently when joined; the whole prompt has the last word.
        while (packed.Count > 0 && counter.CountPromptTokens(AnswerPrompt.Build(question, packed, history)) > counter.MaxPromptTokens)
            packed.RemoveAt(LowestRanked(packed, hits));
        return packed;
    }

    private static int LowestRanked(List<SearchHit> packed, IReadOnlyList<SearchHit> ranked)
    {
        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < ranked.Count; i++) rank.TryAdd(ranked[i].ChunkId, i);
        return packed.Select((hit, i) => (i, Rank: rank[hit.ChunkId])).MaxBy(p => p.Rank).i;
    }

    /// <summary>Whether nothing was retrieved to answer from: then nothing is generated and the answer is <see cref="NothingFoundAnswer"/>.</summary>
    public static bool FoundNothing(AskContext context) => context.Passages.Count == 0;

    /// <summary>Step 3: generates the answer to a packed prompt; throws with <see cref="NoModelNotice"/> when no generator is configured.</summary>
    public async Task<ChatResponse> GenerateAsync(IList<ChatMessage> prompt, ChatOptions? generation = null, CancellationToken cancellationToken = default)
    {
        if (chat is null) throw new InvalidOperationException(NoModelNotice);
        using var generate = Activity.StartActivity("generate");
        var response = await chat.GetResponseAsync(prompt, generation, cancellationToken);
        generate?.SetTag("rag.completion_tokens", response.Usage?.OutputTokenCount);
        return response;
    }

    /// <summary>Streams answer text; the context (citations) is known before the first token.</summary>
    public async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(AskContext context, ChatOptions? generation,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (FoundNothing(context))
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, NothingFoundAnswer) { FinishReason = ChatFinishReason.Stop };
            yield break;
        }
        if (chat is null) throw new InvalidOperationException(NoModelNotice);
        using var generate = Activity.StartActivity("generate");
        await foreach (var update in chat.GetStreamingResponseAsync(context.Prompt, generation, cancellationToken))
            yield return update;
    }
}
