using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Rag.Generator.Generation;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Answering.Conversations;
using Rag.Orchestrator.Api.Documentation;
using Rag.Orchestrator.Api.OpenAi;

namespace Rag.Orchestrator.Api;

/// <summary>
/// POST /v1/chat/completions, OpenAI-compatible: the last (user) message is the question, answered from retrieved
/// passages. A follow-up in a conversation this server answered continues it (<see cref="ConversationTurns"/>:
/// only new passages, numbered on); other histories are kept in front of the packed prompt. Citations ride in an
/// extra "citations" field (a follow-up's under the conversation's numbers); usage reports cached prompt tokens; extra
/// request fields "k" and "filters" (as in /v1/ask) narrow retrieval, and "follow_up_passages" caps a follow-up's new
/// passages. Errors take OpenAI's shape (<see cref="OpenAiErrors"/>).
/// </summary>
public static class ChatCompletionsEndpoints
{
    private const int MaxStopSequences = 4;

    public static IEndpointRouteBuilder MapChatCompletions(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/chat/completions", CompleteAsync)
            .RequireAuthorization(ApiPolicies.Read)
            .Accepts<ChatCompletionRequest>("application/json")
            .Produces<ChatCompletion>()
            .ProducesServerSentEvents("A chat.completion; with stream: true, server-sent events whose data is a chat.completion.chunk, the last one's [DONE].", typeof(ChatCompletionChunk))
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .Produces(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithTags("Generation")
            .WithSummary("OpenAI-compatible chat completion grounded in the documents (stream: true for server-sent events).");
        return routes;
    }

    private static async Task<IResult> CompleteAsync(HttpContext context, GeneratorWarmup warmup, IOptions<GeneratorOptions> generatorOptions, ApiMetrics metrics)
    {
        var request = await ApiJson.ReadAsync<ChatCompletionRequest>(context);
        if (!warmup.IsConfigured)
            return ApiProblems.Unavailable("No generator model is configured: set Generator:ModelPath and Generator:VocabPath " +
                                           "(e.g. environment variables Generator__ModelPath, Generator__VocabPath). POST /v1/search still works.");
        if (warmup.Failure is not null) return ApiProblems.Unavailable(warmup.Unavailable!);
        var model = ModelsEndpoints.GeneratorId(context.RequestServices);
        if (!string.IsNullOrEmpty(request.Model) && request.Model != model) return OpenAiErrors.UnknownModel(request.Model, model);

        var (history, question) = SplitMessages(request.Messages);
        var generation = ToChatOptions(request, generatorOptions.Value.MaxTokens);
        var ask = context.RequestServices.GetRequiredService<AskService>();
        var conversation = context.RequestServices.GetRequiredService<ConversationTurns>();
        var turn = await conversation.PrepareAsync(history,
            new AskRequest(question, request.K, ApiFilter.ToSearchFilter(request.Filters), FollowUpPassages: request.FollowUpPassages), context.RequestAborted);
        var askContext = turn.Context;
        var citations = ApiCitation.From(askContext.Citations);
        var id = $"chatcmpl-{Guid.NewGuid():N}";
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        if (!request.Stream)
        {
            var response = await ask.StreamAsync(askContext, generation, context.RequestAborted).ToChatResponseAsync(context.RequestAborted);
            metrics.GeneratedTokens(response.Usage?.OutputTokenCount, "chat");
            conversation.Remember(turn, response.Text);
            var reasoning = string.Concat(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>().Select(r => r.Text));
            var message = new ChatCompletionMessage("assistant", response.Text, reasoning.Length > 0 ? reasoning : null);
            return TypedResults.Ok(new ChatCompletion(id, created, model, [new ChatCompletionChoice(0, message, FinishReason(response.FinishReason))],
                Usage(response.Usage), citations));
        }

        await StreamAsync(context, ask.StreamAsync(askContext, generation, context.RequestAborted), metrics,
            new ChunkFactory(id, created, model), citations, request.StreamOptions?.IncludeUsage == true, answer => conversation.Remember(turn, answer));
        return Results.Empty;
    }

    /// <summary>Role chunk (with citations), one chunk per text piece, a finish chunk, optionally a usage chunk, then [DONE].
    /// <paramref name="answered"/> gets the answer's text before [DONE]: a client may send its follow-up the moment it reads it.</summary>
    private static async Task StreamAsync(HttpContext context, IAsyncEnumerable<ChatResponseUpdate> updates, ApiMetrics metrics,
        ChunkFactory chunks, IReadOnlyList<ApiCitation> citations, bool includeUsage, Action<string> answered)
    {
        var cancellationToken = context.RequestAborted;
        await using var pieces = updates.GetAsyncEnumerator(cancellationToken);
        // The first step runs prefill, where the generator rejects prompts it cannot take: still time for a 400.
        bool more = await pieces.MoveNextAsync();
        var events = await ServerSentEvents.StartAsync(context, ApiJson.Options(context));
        await events.WriteJsonAsync(chunks.Delta(new ChatCompletionDelta("assistant", ""), null) with { Citations = citations }, cancellationToken);

        ChatFinishReason? finish = null;
        UsageDetails? usage = null;
        var answer = new System.Text.StringBuilder();
        for (; more; more = await pieces.MoveNextAsync())
        {
            var update = pieces.Current;
            finish ??= update.FinishReason;
            usage ??= update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
            foreach (var reasoning in update.Contents.OfType<TextReasoningContent>().Where(r => r.Text.Length > 0))
                await events.WriteJsonAsync(chunks.Delta(new ChatCompletionDelta(ReasoningContent: reasoning.Text), null), cancellationToken);
            if (update.Text is { Length: > 0 } text)
            {
                answer.Append(text);
                await events.WriteJsonAsync(chunks.Delta(new ChatCompletionDelta(Content: text), null), cancellationToken);
            }
        }

        metrics.GeneratedTokens(usage?.OutputTokenCount, "chat");
        await events.WriteJsonAsync(chunks.Delta(new ChatCompletionDelta(), FinishReason(finish)), cancellationToken);
        if (includeUsage) await events.WriteJsonAsync(chunks.Empty() with { Usage = Usage(usage) }, cancellationToken);
        answered(answer.ToString());
        await events.WriteDataAsync("[DONE]", cancellationToken);
    }

    private sealed record ChunkFactory(string Id, long Created, string Model)
    {
        public ChatCompletionChunk Delta(ChatCompletionDelta delta, string? finishReason) =>
            new(Id, Created, Model, [new ChatCompletionChunkChoice(0, delta, finishReason)]);

        public ChatCompletionChunk Empty() => new(Id, Created, Model, []);
    }

    /// <summary>The last message is the question (role user); the ones before it are the conversation so far.</summary>
    private static (List<ChatMessage> History, string Question) SplitMessages(IReadOnlyList<ChatCompletionMessage>? messages)
    {
        if (messages is not { Count: > 0 }) throw Invalid("messages", "messages is empty; the last message must be the user's question.");
        var history = new List<ChatMessage>();
        for (int i = 0; i < messages.Count; i++)
        {
            var role = messages[i].Role switch
            {
                "system" or "developer" => ChatRole.System,
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                var other => throw Invalid($"messages[{i}].role", $"messages[{i}].role '{other}' is not supported; use system, user or assistant."),
            };
            if (i < messages.Count - 1) history.Add(new ChatMessage(role, messages[i].Content ?? ""));
            else if (role != ChatRole.User)
                throw Invalid($"messages[{i}].role", $"messages[{i}].role is '{messages[i].Role}'; the last message must be the user's question (role 'user').");
        }
        return (history, messages[^1].Content ?? "");
    }

    private static ChatOptions ToChatOptions(ChatCompletionRequest request, int maxTokensLimit)
    {
        var (field, maxTokens) = request.MaxCompletionTokens is { } completion ? ("max_completion_tokens", (int?)completion) : ("max_tokens", request.MaxTokens);
        GenerationLimits.CheckMaxTokens(maxTokens, maxTokensLimit, field);
        GenerationLimits.CheckTemperature(request.Temperature, "temperature");
        GenerationLimits.CheckTopP(request.TopP, "top_p");
        var stop = request.Stop ?? [];
        if (stop.Count > MaxStopSequences) throw Invalid("stop", $"stop has {stop.Count} sequences; the limit is {MaxStopSequences}.");
        if (stop.Any(string.IsNullOrEmpty)) throw Invalid("stop", "stop contains an empty sequence.");
        return new ChatOptions
        {
            MaxOutputTokens = maxTokens,
            Temperature = request.Temperature,
            TopP = request.TopP,
            StopSequences = stop.Count > 0 ? [.. stop] : null,
            Seed = request.Seed,
        };
    }

    private static RagInputException Invalid(string field, string message) => new(message) { Field = field };

    private static string FinishReason(ChatFinishReason? reason) => reason == ChatFinishReason.Length ? "length" : "stop";

    private static ChatCompletionUsage? Usage(UsageDetails? usage) => usage is null ? null
        : new ChatCompletionUsage(usage.InputTokenCount ?? 0, usage.OutputTokenCount ?? 0, usage.TotalTokenCount ?? 0,
            new PromptTokensDetails(usage.CachedInputTokenCount ?? 0));
}
