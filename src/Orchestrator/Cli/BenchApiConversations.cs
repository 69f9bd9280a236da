using System.Globalization;
using Rag.Orchestrator.Benchmarks;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag bench api --turns M`: N concurrent conversations × M turns (see <see cref="ConversationLoadBenchmark"/>).</summary>
internal static class BenchApiConversations
{
    /// <summary>
    /// One topic per sample document: a first question, then follow-ups on the same subject, as a chat user asks them.
    /// Conversation i keeps to topic i mod 6, so concurrent conversations read different passages.
    /// </summary>
    private static readonly string[][] Topics =
    [
        [
            "What hydration should a beginner use for sourdough dough?",
            "How often should the starter be fed, and how do I know it is healthy?",
            "How long is the bulk fermentation, and how often should I stretch and fold the dough?",
            "At what temperature and for how long is the loaf baked?",
            "What does a dense, gummy crumb or a flat loaf tell me?",
        ],
        [
            "How does SQLite keep readers and writers apart with the write-ahead log?",
            "Where do readers look up a page in WAL mode?",
            "What happens when a second writer arrives while another one is writing?",
            "When does a checkpoint run, and what stops it from completing?",
            "How is a WAL database backed up safely, and what happens to a transaction cut off by a crash?",
        ],
        [
            "What does the RWKV-7 time mix compute?",
            "How is each head's state updated for every token?",
            "Why is the decay bounded, and how is it computed?",
            "How does chunked parallel prefill work without an attention matrix?",
            "What does channel mixing do after time mixing?",
        ],
        [
            "How does reciprocal rank fusion combine rankings?",
            "Why can BM25 scores and dense similarity scores not simply be added?",
            "What does the constant k in the fusion formula do?",
            "Why should each retriever be asked for more than k passages?",
            "Why does the fusion work without training, and who introduced it?",
        ],
        [
            "How does the tokenizer split text into tokens?",
            "How does byte-pair encoding learn its merges and apply them?",
            "How does the RWKV World tokenizer encode text?",
            "Why must a streaming decoder hold back incomplete bytes?",
            "Why are chunks measured in tokens, and why do they overlap?",
        ],
        [
            "Where does the embedded store keep its data?",
            "How do I move an installation or back it up while it runs?",
            "What happens when the same ingestion job runs twice?",
            "How do I scale out with Qdrant, and where should its API key come from?",
            "How much memory does the generator need, and when does /readyz answer?",
        ],
    ];

    public static async Task<int> RunAsync(HttpClient http, IReadOnlyList<int> levels, int turns, int maxTokens, CancellationToken ct)
    {
        var bench = new ConversationLoadBenchmark(http, Topics, turns, maxTokens);
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
        Console.WriteLine();
        foreach (var r in rows)
            if (FollowUpComparison.Of(r.Turns) is { } c)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Conversations} conversations: turns 2–{c.LastTurn} prefill {c.Ratio:F1}× fewer tokens than turn 1 ({c.FollowUpPrefilled:F0} against " +
                    $"{c.FirstPrefilled:F0} per request); TTFT p50 {c.FollowUpTtftP50MinMs:F0}–{c.FollowUpTtftP50MaxMs:F0} ms against {c.FirstTtftP50Ms:F0} ms"));
        return BenchApiCommand.Conclude(rows, rows.Sum(r => r.Errors));
    }
}
