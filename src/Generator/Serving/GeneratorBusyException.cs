namespace Rag.Generator.Serving;

/// <summary>
/// The scheduler's queue is full: the request was not accepted (nothing of it ran). The HTTP API answers 429
/// with <see cref="RetryAfter"/> as the Retry-After header.
/// </summary>
public sealed class GeneratorBusyException(int queued, TimeSpan retryAfter)
    : Exception($"The generator is busy: {queued} requests are already waiting (Generator:MaxQueuedRequests); retry in {Math.Ceiling(retryAfter.TotalSeconds)} s.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
