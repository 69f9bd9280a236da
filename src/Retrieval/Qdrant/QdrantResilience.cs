using System.Net;
using System.Net.Sockets;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Rag.Retrieval.Qdrant;

/// <summary>
/// Retry (exponential backoff with jitter) → circuit breaker → per-attempt timeout, outermost first. Every write
/// the store sends is idempotent (deterministic point ids, delete by filter), so any request may be retried.
/// </summary>
internal static class QdrantResilience
{
    public static ResiliencePipeline<HttpResponseMessage> Build(QdrantOptions options)
    {
        // SocketsHttpHandler lets a SocketException escape unwrapped when a connection is reset just after it opened.
        var transient = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>()
            .Handle<SocketException>()
            .Handle<TimeoutRejectedException>()
            .HandleResult(IsTransient);

        return new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = transient,
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = TimeSpan.FromSeconds(30),
                // A retried response is dropped; release its connection.
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = transient,
                FailureRatio = options.CircuitFailureRatio,
                MinimumThroughput = options.CircuitMinimumThroughput,
                SamplingDuration = options.CircuitSamplingDuration,
                BreakDuration = options.CircuitBreakDuration,
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    /// <summary>Overload and server-side failures are worth another attempt; other 4xx answers are final.</summary>
    internal static bool IsTransient(HttpResponseMessage response) =>
        response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500;
}
