using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Rag.Retrieval.Qdrant;

/// <summary>Sends JSON requests to one Qdrant collection through the resilience pipeline; failures become <see cref="QdrantException"/>.</summary>
internal sealed class QdrantRestClient(HttpClient http, QdrantOptions options)
{
    private readonly Uri _baseUri = new(options.Url.TrimEnd('/') + "/");
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline = QdrantResilience.Build(options);

    public string CollectionPath { get; } = "collections/" + Uri.EscapeDataString(options.Collection);

    public async Task<T?> SendAsync<TBody, T>(HttpMethod method, string path, TBody body, JsonTypeInfo<TBody> bodyType,
        JsonTypeInfo<QdrantResponse<T>> resultType, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(body, bodyType);
        using var response = await SendAsync(method, path, json, cancellationToken);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var parsed = await JsonSerializer.DeserializeAsync(stream, resultType, cancellationToken);
        return parsed is null ? default : parsed.Result;
    }

    public async Task SendAsync<TBody>(HttpMethod method, string path, TBody body, JsonTypeInfo<TBody> bodyType, CancellationToken cancellationToken)
    {
        using var _ = await SendAsync(method, path, JsonSerializer.Serialize(body, bodyType), cancellationToken);
    }

    public async Task<T?> GetAsync<T>(string path, JsonTypeInfo<QdrantResponse<T>> resultType, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, path, json: null, cancellationToken);
        var parsed = await JsonSerializer.DeserializeAsync(await response.Content.ReadAsStreamAsync(cancellationToken), resultType, cancellationToken);
        return parsed is null ? default : parsed.Result;
    }

    /// <summary>One attempt, no retries: readiness must answer quickly and honestly.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.AttemptTimeout);
        try
        {
            using var response = await http.SendAsync(CreateRequest(HttpMethod.Get, "readyz", null), timeout.Token);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>A successful response (caller disposes), or <see cref="QdrantException"/>.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json, CancellationToken cancellationToken)
    {
        var what = $"{method} {_baseUri}{path}";
        HttpResponseMessage response;
        try
        {
            // A request message can be sent once only, so every attempt builds its own.
            response = await _pipeline.ExecuteAsync(
                async token => await http.SendAsync(CreateRequest(method, path, json), token), cancellationToken);
        }
        catch (BrokenCircuitException e)
        {
            throw new QdrantException($"{what}: Qdrant is treated as unavailable after repeated failures (circuit open, retry after {e.RetryAfter})", null, e);
        }
        catch (TimeoutRejectedException e)
        {
            throw new QdrantException($"{what}: no answer within {options.AttemptTimeout} after {options.MaxRetryAttempts + 1} attempts", HttpStatusCode.RequestTimeout, e);
        }
        catch (HttpRequestException e)
        {
            throw new QdrantException($"{what}: Qdrant cannot be reached ({e.Message})", e.StatusCode, e);
        }
        catch (SocketException e)
        {
            throw new QdrantException($"{what}: Qdrant cannot be reached ({e.Message})", null, e);
        }

        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new QdrantException($"{what} failed with {(int)response.StatusCode} {response.StatusCode}: {Truncate(body, 500)}", response.StatusCode);
        }
    }

    private HttpRequestMessage CreateRequest(HttpMethod method, string path, string? json)
    {
        var request = new HttpRequestMessage(method, new Uri(_baseUri, path));
        if (!string.IsNullOrEmpty(options.ApiKey)) request.Headers.Add("api-key", options.ApiKey);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return request;
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";
}
