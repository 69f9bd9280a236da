using System.Text.Json.Serialization;

namespace Rag.Orchestrator.Api;

// The OpenAI chat completions wire format (the subset a local RAG model can honour), plus "citations" in answers
// and "k" / "filters" (as in /v1/ask) and "follow_up_passages" (Ask:FollowUpPassages for this request) in requests.

public sealed record ChatCompletionRequest(
    IReadOnlyList<ChatCompletionMessage>? Messages,
    string? Model = null,
    float? Temperature = null,
    float? TopP = null,
    int? MaxTokens = null,
    int? MaxCompletionTokens = null,
    [property: JsonConverter(typeof(StringOrArrayConverter))] IReadOnlyList<string>? Stop = null,
    bool Stream = false,
    StreamOptions? StreamOptions = null,
    long? Seed = null,
    int? K = null,
    ApiFilter? Filters = null,
    int? FollowUpPassages = null);

public sealed record StreamOptions(bool IncludeUsage = false);

/// <param name="ReasoningContent">The model's thinking (Generator:Thinking on), apart from the answer, as DeepSeek-style APIs return it.</param>
public sealed record ChatCompletionMessage(
    string? Role,
    [property: JsonConverter(typeof(MessageContentConverter))] string? Content,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ReasoningContent = null);

public sealed record ChatCompletion(
    string Id,
    long Created,
    string Model,
    IReadOnlyList<ChatCompletionChoice> Choices,
    ChatCompletionUsage? Usage,
    IReadOnlyList<ApiCitation> Citations)
{
    public string Object => "chat.completion";
}

public sealed record ChatCompletionChoice(int Index, ChatCompletionMessage Message, string FinishReason);

/// <param name="PromptTokensDetails">As OpenAI reports it: how many prompt tokens were served from the state cache.</param>
public sealed record ChatCompletionUsage(long PromptTokens, long CompletionTokens, long TotalTokens, PromptTokensDetails PromptTokensDetails);

public sealed record PromptTokensDetails(long CachedTokens);

/// <summary>One server-sent event of a streamed completion; <see cref="Citations"/> ride on the first.</summary>
public sealed record ChatCompletionChunk(
    string Id,
    long Created,
    string Model,
    IReadOnlyList<ChatCompletionChunkChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ChatCompletionUsage? Usage = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ApiCitation>? Citations = null)
{
    public string Object => "chat.completion.chunk";
}

/// <param name="FinishReason">Null (written as null, as OpenAI does) until the last content chunk.</param>
public sealed record ChatCompletionChunkChoice(int Index, ChatCompletionDelta Delta, string? FinishReason);

public sealed record ChatCompletionDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ReasoningContent = null);
