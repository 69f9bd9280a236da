using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Rag.Orchestrator.Benchmarks;

/// <summary>The server's memory right after a full compacting collection: live managed data, and resident memory.</summary>
public sealed record ServerMemory(long HeapBytes, long WorkingSetBytes);

/// <summary>A level of a load run, with the server's idle memory before and after it.</summary>
public interface ILoadLevel
{
    ServerMemory? Before { get; }

    ServerMemory? After { get; }
}

/// <summary>One concurrency level of the API load run.</summary>
/// <param name="Before">Server memory with no request in flight, just before the level; null when the server would not say.</param>
/// <param name="After">Server memory with no request in flight, once every client of the level has finished.</param>
/// <param name="CompletionTokens">Tokens the answers wrote, from their usage figures.</param>
public sealed record ApiLoadRow(int Concurrency, int Requests, int Errors, double RequestsPerSecond, long CompletionTokens, double TokensPerSecond,
    double P50Ms, double P95Ms, double P99Ms, ServerMemory? Before, ServerMemory? After) : ILoadLevel;

/// <summary>
/// Drives a running `rag serve` over loopback: each of N concurrent clients alternates POST /v1/ask and a
/// streaming POST /v1/chat/completions (read to `data: [DONE]`, usage included) for the given duration; the tokens
/// written come from both answers' usage. Any non-2xx answer, exception, stream without [DONE] or answer without usage
/// counts as an error. Before and after each level, with no request in flight,
/// the server's live managed heap is read through POST /v1/diagnostics/memory/collect (a full GC, then the figures).
/// </summary>
public sealed class ApiLoadBenchmark(HttpClient http, string question, int maxTokens)
{
    public async Task<ApiLoadRow> RunAsync(int concurrency, TimeSpan duration, CancellationToken cancellationToken)
    {
        var latencies = new List<double>();
        int errors = 0;
        long tokens = 0;
        var before = await ServerMemoryAsync(http, cancellationToken);
        var clock = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, concurrency).Select(async client =>
        {
            for (long i = client; clock.Elapsed < duration && !cancellationToken.IsCancellationRequested; i++)
            {
                var watch = Stopwatch.StartNew();
                long? written = await RequestAsync(streamChat: i % 2 == 1, cancellationToken);
                lock (latencies)
                {
                    latencies.Add(watch.Elapsed.TotalMilliseconds);
                    if (written is { } n) tokens += n;
                    else errors++;
                }
            }
        });
        await Task.WhenAll(clients);
        double seconds = clock.Elapsed.TotalSeconds;
        latencies.Sort();
        return new ApiLoadRow(concurrency, latencies.Count, errors, latencies.Count / seconds, tokens, tokens / seconds,
            Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99), before, await ServerMemoryAsync(http, cancellationToken));
    }

    /// <summary>
    /// Growth of the idle live heap over the run, from the end of the first level (its caches and pools warmed
    /// up; before it, with one level only) to the end of the last; null when the server's memory was not read.
    /// A leak grows with every request; allocator noise after a full compacting GC stays far below 1 MiB.
    /// </summary>
    public static (long Bytes, bool Flat)? HeapGrowth(IReadOnlyList<ILoadLevel> rows)
    {
        var baseline = rows.Count > 1 ? rows[0].After : rows.FirstOrDefault()?.Before;
        if (baseline is null || rows.Count == 0 || rows[^1].After is not { } last) return null;
        long growth = last.HeapBytes - baseline.HeapBytes;
        return (growth, growth <= Math.Max(1L << 20, baseline.HeapBytes / 20));
    }

    /// <summary>The tokens the answer wrote; null when the request failed.</summary>
    private async Task<long?> RequestAsync(bool streamChat, CancellationToken cancellationToken)
    {
        try
        {
            using var request = streamChat
                ? Json("/v1/chat/completions", $$"""{"messages":[{"role":"user","content":{{Quote(question)}}}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":{{maxTokens}},"temperature":0}""")
                : Json("/v1/ask", $$"""{"question":{{Quote(question)}},"k":8}""");
            var sent = Stopwatch.StartNew();
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode) return null;
            if (streamChat) return (await ChatStream.ReadAsync(response, sent, cancellationToken))?.CompletionTokens;
            using var document = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return document.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == System.Text.Json.JsonValueKind.Object
                ? usage.GetProperty("completion_tokens").GetInt64()
                : null;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or System.Text.Json.JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static HttpRequestMessage Json(string path, string body) => new(HttpMethod.Post, path)
    {
        Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
    };

    internal static string Quote(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    internal static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>Null when the server does not answer it (an older server, or an API key without write permission).</summary>
    internal static async Task<ServerMemory?> ServerMemoryAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync("/v1/diagnostics/memory/collect", content: null, cancellationToken);
        if (!response.IsSuccessStatusCode) return null;
        // The endpoint's JSON is snake_case (see ApiJson).
        var report = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement;
        return new ServerMemory(report.GetProperty("heap_bytes").GetInt64(), report.GetProperty("working_set_bytes").GetInt64());
    }
}
