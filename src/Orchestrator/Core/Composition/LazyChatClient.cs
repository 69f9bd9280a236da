using Microsoft.Extensions.AI;

namespace Rag.Orchestrator.Composition;

/// <summary>
/// The generator, loaded at its first use: a host that builds a kernel or serves only search does not pay for (or fail
/// on) loading the model. Metadata is known without loading, so chat services that read it at construction stay lazy.
/// </summary>
internal sealed class LazyChatClient(Func<IChatClient> load, ChatClientMetadata metadata) : IChatClient
{
    private readonly Lazy<IChatClient> _inner = new(load);

    /// <summary>Loads the generator now (model and vocabulary, checked together); a failure is thrown here and at every later use.</summary>
    public void Load() => _ = _inner.Value;

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        _inner.Value.GetResponseAsync(messages, options, cancellationToken);

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) =>
        _inner.Value.GetStreamingResponseAsync(messages, options, cancellationToken);

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is null && serviceType == typeof(ChatClientMetadata)) return metadata;
        return _inner.Value.GetService(serviceType, serviceKey);
    }

    public void Dispose()
    {
        if (_inner.IsValueCreated) _inner.Value.Dispose();
    }
}
