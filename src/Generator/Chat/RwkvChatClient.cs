using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rag.Generator.Generation;
using Rag.Generator.Model;
using Rag.Generator.Serving;
using Rag.Generator.Tokenization;

namespace Rag.Generator.Chat;

/// <summary>
/// <see cref="IChatClient"/> over a local RWKV model: the conversation is formatted with
/// <see cref="ChatPromptFormatter"/> and continued until the model closes its turn (a blank line),
/// ends the text, meets a requested stop sequence or reaches the token limit.
/// </summary>
/// <remarks>
/// Requests run through the model's <see cref="Serving.GenerationScheduler"/>: batched with every other request on
/// the model, and resumed from the state the previous turn of a conversation ended in when it is still kept (the
/// usage's cached input tokens say how many prompt tokens that saved). The client does not own the model:
/// disposing the client leaves it alive.
/// </remarks>
public sealed class RwkvChatClient : IChatClient, IPromptTokenCounter
{
    private readonly TextGenerator _generator;
    private readonly GeneratorOptions _options;
    private readonly ChatClientMetadata _metadata;
    private readonly ILogger _logger;

    /// <summary>A client on the model's shared scheduler (created with <paramref name="options"/> by its first user).</summary>
    public RwkvChatClient(ILanguageModel model, WorldTokenizer tokenizer, GeneratorOptions? options = null, ILogger<RwkvChatClient>? logger = null)
        : this(GenerationScheduler.For(model, tokenizer, options ?? new GeneratorOptions()), logger)
    {
    }

    public RwkvChatClient(GenerationScheduler scheduler, ILogger<RwkvChatClient>? logger = null)
    {
        _options = scheduler.Options;
        _generator = new TextGenerator(scheduler);
        _logger = logger ?? NullLogger<RwkvChatClient>.Instance;
        var modelId = string.IsNullOrEmpty(_options.ModelPath) ? "rwkv7" : Path.GetFileNameWithoutExtension(_options.ModelPath);
        _metadata = new ChatClientMetadata("rwkv", providerUri: null, defaultModelId: modelId);
    }

    public int MaxPromptTokens => _options.MaxPromptTokens;

    public int CountPromptTokens(IEnumerable<ChatMessage> messages) =>
        CountTokens(ChatPromptFormatter.Format(messages, instructions: null, _options.ThinkingEnabled));

    public int CountTokens(string text) => _generator.Tokenizer.CountTokens(text);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (options?.Tools is { Count: > 0 }) throw new NotSupportedException("RwkvChatClient does not support tool calling (ChatOptions.Tools).");
        var prompt = ChatPromptFormatter.Format(messages, options?.Instructions, _options.ThinkingEnabled);
        var generation = _generator.Generate(prompt, ToSamplingOptions(options));

        var responseId = Guid.NewGuid().ToString("N");
        var createdAt = DateTimeOffset.UtcNow;
        // Reasoning goes out as TextReasoningContent, never as answer text; the splitter also drops the space the
        // model writes after "Assistant:". The answer as the client gets it is kept for the follow-up turn.
        var splitter = new ThinkingSplitter(promptOpenedBlock: _options.ThinkingEnabled);
        var reply = new System.Text.StringBuilder();
        await foreach (var piece in generation.WithCancellation(cancellationToken))
            foreach (var part in splitter.Push(piece))
            {
                if (!part.IsReasoning) reply.Append(part.Text);
                yield return NewUpdate(responseId, createdAt, [Content(part)]);
            }
        foreach (var part in splitter.Flush())
        {
            if (!part.IsReasoning) reply.Append(part.Text);
            yield return NewUpdate(responseId, createdAt, [Content(part)]);
        }
        KeepForFollowUp(prompt, reply.ToString(), generation);

        var finishReason = generation.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;
        var usage = new UsageDetails
        {
            InputTokenCount = generation.PromptTokenCount,
            CachedInputTokenCount = generation.CachedPromptTokenCount,
            OutputTokenCount = generation.CompletionTokenCount,
            TotalTokenCount = generation.PromptTokenCount + generation.CompletionTokenCount,
        };
        _logger.LogDebug("RWKV chat response {ResponseId}: {InputTokens} prompt tokens, {OutputTokens} completion tokens, finish {FinishReason}",
            responseId, usage.InputTokenCount, usage.OutputTokenCount, finishReason);
        var last = NewUpdate(responseId, createdAt, [new UsageContent(usage)]);
        last.FinishReason = finishReason;
        yield return last;
    }

    private static AIContent Content((string Text, bool IsReasoning) part) =>
        part.IsReasoning ? new TextReasoningContent(part.Text) : new TextContent(part.Text);

    /// <summary>
    /// The next prompt of this conversation starts with this prompt, then " " and the reply as the client got it
    /// back (trimmed, undecodable bytes replaced): that text is made to lead to what the model actually read, so the
    /// follow-up resumes from the kept state. A reply cut by the token limit ends with a token the model sampled
    /// but did not read; the follow-up reads it first.
    /// </summary>
    private void KeepForFollowUp(string prompt, string reply, TextGeneration generation)
    {
        var written = ChatPromptFormatter.NormalizeContent(reply);
        if (written.Length == 0 || generation.ReadTokens is not { } read) return;
        int[] ids = generation.FinishReason == FinishReason.Length && generation.UnreadToken is { } last ? [.. read, last] : read;
        _generator.Scheduler.Cache.AddAlias(read, prompt + " " + written, ids);
    }

    /// <summary>Maps request options onto sampling options; unset ones take the configured defaults.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option value breaks its rule (the message names it).</exception>
    public SamplingOptions ToSamplingOptions(ChatOptions? options)
    {
        var sampling = new SamplingOptions
        {
            Temperature = options?.Temperature ?? _options.Temperature,
            TopP = options?.TopP ?? _options.TopP,
            TopK = options?.TopK ?? 0,
            PresencePenalty = options?.PresencePenalty ?? _options.PresencePenalty,
            FrequencyPenalty = options?.FrequencyPenalty ?? _options.FrequencyPenalty,
            PenaltyDecay = _options.PenaltyDecay,
            MaxTokens = options?.MaxOutputTokens ?? _options.MaxTokens,
            StopSequences = [ChatPromptFormatter.TurnSeparator, .. options?.StopSequences ?? []],
            Seed = options?.Seed,
        };
        sampling.Validate();
        return sampling;
    }

    private ChatResponseUpdate NewUpdate(string responseId, DateTimeOffset createdAt, IList<AIContent> contents) =>
        new(ChatRole.Assistant, contents)
        {
            ResponseId = responseId,
            MessageId = responseId,
            CreatedAt = createdAt,
            ModelId = _metadata.DefaultModelId,
        };

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return _metadata;
        if (serviceType == typeof(TextGenerator)) return _generator;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose()
    {
    }
}
