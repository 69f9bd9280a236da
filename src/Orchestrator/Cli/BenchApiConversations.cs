using System.Globalization;
using Rag.Orchestrator.Benchmarks;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag bench api --turns M`: N concurrent conversations × M turns (see <see cref="ConversationLoadBenchmark"/>).</summary>
internal static class BenchApiConversations
{
    /// <summary>Questions about the sample documents, taken in turn; each conversation starts at a different one.</summary>
    private static readonly string[] Questions =
    [
        "What hydration should a beginner use for sourdough dough?",
        "How does SQLite keep readers and writers apart with the write-ahead log?",
        "What does the RWKV-7 time mix compute?",
        "How does reciprocal rank fusion combine rankings?",
        "How does the tokenizer split text into tokens?",
        "What should an operator check first when the service is slow?",
    ];

    public static async Task<int> RunAsync(HttpClient http, IReadOnlyList<int> levels, int turns, int maxTokens, CancellationToken ct)
    {
        var bench = new ConversationLoadBenchmark(http, Questions, turns, maxTokens);
        Console.WriteLine($"{"conversations",13} {"turns",6} {"errors",7} {"seconds",8} {"tokens",7} {"tokens/s",9} {"TTFT p50 ms",12} {"TTFT p95 ms",12} " +
                          $"{"prompt tok",11} {"cached tok",11} {"saved",6} {"live heap MiB",15} {"RSS MiB",8}");
        var rows = new List<ConversationLoadRow>();
        foreach (int level in levels)
        {
            var r = await bench.RunAsync(level, ct);
            rows.Add(r);
            var heap = r.Before is { } b && r.After is { } a ? $"{BenchApiCommand.Mib(b.HeapBytes)} → {BenchApiCommand.Mib(a.HeapBytes)}" : "n/a";
            var rss = r.After is { } after ? BenchApiCommand.Mib(after.WorkingSetBytes) : "n/a";
            var saved = r.PromptTokens == 0 ? "n/a" : (r.CachedTokens / (double)r.PromptTokens).ToString("P0", CultureInfo.InvariantCulture);
            Console.WriteLine($"{r.Conversations,13} {r.Requests,6} {r.Errors,7} {r.Seconds,8:F1} {r.CompletionTokens,7} {r.TokensPerSecond,9:F1} " +
                              $"{r.TtftP50Ms,12:F0} {r.TtftP95Ms,12:F0} {r.PromptTokens,11} {r.CachedTokens,11} {saved,6} {heap,15} {rss,8}");
        }
        Console.WriteLine();
        Console.WriteLine("per turn (all levels): prompt tokens and tokens prefilled (prompt minus cached) per request, time to first token");
        Console.WriteLine($"{"conversations",13} {"turn",5} {"requests",9} {"prompt",8} {"prefilled",10} {"TTFT p50 ms",12} {"TTFT p95 ms",12}");
        foreach (var r in rows)
            foreach (var t in r.Turns)
                Console.WriteLine($"{r.Conversations,13} {t.Turn,5} {t.Requests,9} {t.MeanPromptTokens,8:F0} {t.MeanPrefilled,10:F0} {t.TtftP50Ms,12:F0} {t.TtftP95Ms,12:F0}");
        return BenchApiCommand.Conclude(rows, rows.Sum(r => r.Errors));
    }
}
