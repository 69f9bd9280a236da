using System.CommandLine;
using System.Net.Http.Headers;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Benchmarks;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag bench api`: latency, throughput and errors of a running `rag serve` under concurrent load.</summary>
public static class BenchApiCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "Base address of a running rag serve.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var concurrency = new Option<string>("--concurrency") { Description = "Comma-separated numbers of concurrent clients.", DefaultValueFactory = _ => "1,8,32" };
        var duration = new Option<string>("--duration") { Description = "How long each level runs: 30s, 2m or seconds.", DefaultValueFactory = _ => "30s" };
        var question = new Option<string>("--question") { Description = "The question every request asks.", DefaultValueFactory = _ => "How does SQLite keep readers and writers apart?" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "max_tokens of the streamed chat requests.", DefaultValueFactory = _ => 16 };
        var apiKey = new Option<string?>("--api-key") { Description = "Sent as a bearer token when the API requires keys." };
        var turns = new Option<int>("--turns")
        {
            Description = "Conversation mode: each of --concurrency conversations asks this many questions on one topic (a first question, then " +
                          "follow-ups; resending its history); prints aggregate tokens/s, time to first token, the prefill the state cache saved " +
                          "and how many times fewer tokens the follow-ups prefill than turn 1. 0 = request mode.",
        };
        var command = new Command("api", "Drive /v1/ask and streaming /v1/chat/completions of a running rag serve and print p50/p95/p99 latency, throughput and errors.")
        {
            url, concurrency, duration, question, maxTokens, apiKey, turns,
        };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            var levels = CliOptions.PositiveIntList(parse.GetValue(concurrency)!, "--concurrency");
            var length = ParseDuration(parse.GetValue(duration)!);
            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var baseAddress))
                throw new RagInputException($"--url '{parse.GetValue(url)}' is not an absolute URL.");
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = levels.Max() }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(5) };
            if (parse.GetValue(apiKey) is { } key) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            if (parse.GetValue(turns) is var turnCount && turnCount != 0)
            {
                if (turnCount < 0) throw new RagInputException($"--turns must be >= 0; got {turnCount}.");
                return await BenchApiConversations.RunAsync(http, levels, turnCount, parse.GetValue(maxTokens), ct);
            }
            var bench = new ApiLoadBenchmark(http, parse.GetValue(question)!, parse.GetValue(maxTokens));
            Console.WriteLine($"{"clients",7} {"requests",9} {"errors",7} {"req/s",8} {"tokens",8} {"tokens/s",9} {"p50 ms",9} {"p95 ms",9} {"p99 ms",9} {"live heap MiB",15} {"RSS MiB",8}");
            var rows = new List<ApiLoadRow>();
            foreach (int level in levels)
            {
                var r = await bench.RunAsync(level, length, ct);
                rows.Add(r);
                var heap = r.Before is { } b && r.After is { } a ? $"{Mib(b.HeapBytes)} → {Mib(a.HeapBytes)}" : "n/a";
                var rss = r.After is { } after ? Mib(after.WorkingSetBytes) : "n/a";
                Console.WriteLine($"{r.Concurrency,7} {r.Requests,9} {r.Errors,7} {r.RequestsPerSecond,8:F1} {r.CompletionTokens,8} {r.TokensPerSecond,9:F1} {r.P50Ms,9:F1} {r.P95Ms,9:F1} {r.P99Ms,9:F1} {heap,15} {rss,8}");
            }
            return Conclude(rows, rows.Sum(r => r.Errors));
        }, ct));
        return command;
    }

    /// <summary>Prints the heap verdict and the errors; the exit code: failed on any error or a growing heap.</summary>
    internal static int Conclude(IReadOnlyList<ILoadLevel> rows, int totalErrors)
    {
        var growth = ApiLoadBenchmark.HeapGrowth(rows);
        Console.WriteLine(growth switch
        {
            null => "managed heap: not measured (POST /v1/diagnostics/memory/collect needs a key with write permission)",
            { Flat: true } g => $"managed heap: flat ({(g.Bytes >= 0 ? "+" : "")}{Mib(g.Bytes)} MiB live, idle, over the run)",
            { } g => $"managed heap: GROWING (+{Mib(g.Bytes)} MiB live, idle, over the run)",
        });
        if (totalErrors > 0) Console.Error.WriteLine($"{totalErrors} request(s) failed.");
        return totalErrors == 0 && growth?.Flat != false ? CliErrors.Ok : CliErrors.Failed;
    }

    internal static string Mib(long bytes) => (bytes / 1048576.0).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);

    private static TimeSpan ParseDuration(string text)
    {
        text = text.Trim();
        double value;
        if (text.EndsWith('s') && double.TryParse(text[..^1], System.Globalization.CultureInfo.InvariantCulture, out value)) return TimeSpan.FromSeconds(value);
        if (text.EndsWith('m') && double.TryParse(text[..^1], System.Globalization.CultureInfo.InvariantCulture, out value)) return TimeSpan.FromMinutes(value);
        if (double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out value) && value > 0) return TimeSpan.FromSeconds(value);
        throw new RagInputException($"--duration '{text}' is not a duration; use e.g. 30s, 2m or 45.");
    }
}
