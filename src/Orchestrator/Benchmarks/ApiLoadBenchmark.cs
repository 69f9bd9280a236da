using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Rag.Orchestrator.Benchmarks;

/// <summary>One concurrency level of the API load run.</summary>
public sealed record ApiLoadRow(int Concurrency, int Requests, int Errors, double RequestsPerSecond,
    double P50Ms, double P95Ms, double P99Ms, long? ServerRssStartBytes, long? ServerRssEndBytes);

/// <summary>
/// Drives a running `rag serve` over loopback: each of N concurrent clients alternates POST /v1/ask and a
/// streaming POST /v1/chat/completions (read to `data: [DONE]`) for the given duration. Any non-2xx answer,
/// exception or stream without [DONE] counts as an error.
/// </summary>
public sealed class ApiLoadBenchmark(HttpClient http, string question, int maxTokens, int? serverPid)
{
    public async Task<ApiLoadRow> RunAsync(int concurrency, TimeSpan duration, CancellationToken cancellationToken)
    {
        var latencies = new List<double>();
        int errors = 0;
        long? rssStart = ServerRss();
        var clock = Stopwatch.StartNew();
        var clients = Enumerable.Range(0, concurrency).Select(async client =>
        {
            for (long i = client; clock.Elapsed < duration && !cancellationToken.IsCancellationRequested; i++)
            {
                var watch = Stopwatch.StartNew();
                bool ok = await RequestAsync(streamChat: i % 2 == 1, cancellationToken);
                lock (latencies)
                {
                    latencies.Add(watch.Elapsed.TotalMilliseconds);
                    if (!ok) errors++;
                }
            }
        });
        await Task.WhenAll(clients);
        double seconds = clock.Elapsed.TotalSeconds;
        latencies.Sort();
        return new ApiLoadRow(concurrency, latencies.Count, errors, latencies.Count / seconds,
            Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99), rssStart, ServerRss());
    }

    private async Task<bool> RequestAsync(bool streamChat, CancellationToken cancellationToken)
    {
        try
        {
            using var request = streamChat
                ? Json("/v1/chat/completions", $$"""{"messages":[{"role":"user","content":{{Quote(question)}}}],"stream":true,"max_tokens":{{maxTokens}},"temperature":0}""")
                : Json("/v1/ask", $$"""{"question":{{Quote(question)}},"k":8}""");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode) return false;
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return !streamChat || body.Contains("data: [DONE]", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static HttpRequestMessage Json(string path, string body) => new(HttpMethod.Post, path)
    {
        Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
    };

    private static string Quote(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>Resident memory of the server process (Linux /proc), to see that it stays flat over a run.</summary>
    private long? ServerRss()
    {
        if (serverPid is not { } pid) return null;
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status)) return null;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
