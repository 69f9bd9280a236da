using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Rag.Orchestrator.Benchmarks;

/// <summary>Turn <see cref="Turn"/> (1-based) over all conversations of a level.</summary>
/// <param name="MeanPrefilled">Prompt tokens actually run through the model (prompt minus cached), per request.</param>
public sealed record TurnStats(int Turn, int Requests, double MeanPromptTokens, double MeanPrefilled, double TtftP50Ms, double TtftP95Ms);

/// <summary>
/// Turn 1 against its follow-ups (turns 2 to <see cref="LastTurn"/>) in one level: mean tokens prefilled per request
/// (follow-ups weighted by their requests) and time to first token p50 (turn 1's, and the follow-up turns' range).
/// </summary>
public sealed record FollowUpComparison(int LastTurn, double FirstPrefilled, double FollowUpPrefilled, double FirstTtftP50Ms,
    double FollowUpTtftP50MinMs, double FollowUpTtftP50MaxMs)
{
    /// <summary>How many times fewer tokens a follow-up prefills than a first turn.</summary>
    public double Ratio => FirstPrefilled / FollowUpPrefilled;

    /// <summary>From a level's per-turn figures; null without a completed turn 1 and at least one completed follow-up.</summary>
    public static FollowUpComparison? Of(IReadOnlyList<TurnStats> turns)
    {
        var first = turns.FirstOrDefault(t => t.Turn == 1);
        var followUps = turns.Where(t => t.Turn > 1).ToList();
        int requests = followUps.Sum(t => t.Requests);
        if (first is null || requests == 0) return null;
        return new FollowUpComparison(followUps.Max(t => t.Turn), first.MeanPrefilled, followUps.Sum(t => t.MeanPrefilled * t.Requests) / requests,
            first.TtftP50Ms, followUps.Min(t => t.TtftP50Ms), followUps.Max(t => t.TtftP50Ms));
    }
}

/// <summary>One level of the conversation run: <see cref="Conversations"/> conversations at once, each of several turns.</summary>
/// <param name="TokensPerSecond">Completion tokens of all conversations over the level's wall time.</param>
/// <param name="CachedTokens">Prompt tokens resumed from the state cache (prefill saved), out of <see cref="PromptTokens"/>.</param>
public sealed record ConversationLoadRow(int Conversations, int Requests, int Errors, double Seconds, long CompletionTokens, double TokensPerSecond,
    double TtftP50Ms, double TtftP95Ms, long PromptTokens, long CachedTokens, IReadOnlyList<TurnStats> Turns,
    ServerMemory? Before, ServerMemory? After) : ILoadLevel;

/// <summary>
/// Drives a running `rag serve` with N concurrent conversations of M turns each: every turn is a streaming POST
/// /v1/chat/completions (stream_options.include_usage) that resends the whole history, as OpenAI clients do, and
/// asks the next question. Conversation i keeps to topic i mod topics: its first question, then follow-ups on the
/// same subject, as a chat user asks them (so a follow-up finds mostly passages the conversation has read). Time to
/// first token is measured to the first content chunk; tokens and cached prompt tokens come from the usage chunk. Non-2xx answers, exceptions and streams without [DONE] are errors (the
/// conversation then stops). The server's idle live heap is read before and after each level, as in the request mode.
/// </summary>
/// <param name="topics">Each topic's questions in the order asked (turns past the last start over).</param>
public sealed class ConversationLoadBenchmark(HttpClient http, IReadOnlyList<IReadOnlyList<string>> topics, int turns, int maxTokens)
{
    private sealed record TurnResult(int Turn, bool Ok, double TtftMs, long PromptTokens, long CompletionTokens, long CachedTokens);

    public async Task<ConversationLoadRow> RunAsync(int conversations, CancellationToken cancellationToken)
    {
        var before = await ApiLoadBenchmark.ServerMemoryAsync(http, cancellationToken);
        var clock = Stopwatch.StartNew();
        var results = (await Task.WhenAll(Enumerable.Range(0, conversations).Select(c => ConverseAsync(c, cancellationToken)))).SelectMany(r => r).ToList();
        double seconds = clock.Elapsed.TotalSeconds;
        var ok = results.Where(r => r.Ok).ToList();
        var ttft = ok.Select(r => r.TtftMs).Order().ToList();
        var perTurn = ok.GroupBy(r => r.Turn).OrderBy(g => g.Key).Select(g =>
        {
            var sorted = g.Select(r => r.TtftMs).Order().ToList();
            return new TurnStats(g.Key, g.Count(), g.Average(r => (double)r.PromptTokens), g.Average(r => (double)(r.PromptTokens - r.CachedTokens)),
                ApiLoadBenchmark.Percentile(sorted, 0.50), ApiLoadBenchmark.Percentile(sorted, 0.95));
        }).ToList();
        long completion = ok.Sum(r => r.CompletionTokens);
        return new ConversationLoadRow(conversations, results.Count, results.Count - ok.Count, seconds, completion, completion / seconds,
            ApiLoadBenchmark.Percentile(ttft, 0.50), ApiLoadBenchmark.Percentile(ttft, 0.95), ok.Sum(r => r.PromptTokens), ok.Sum(r => r.CachedTokens),
            perTurn, before, await ApiLoadBenchmark.ServerMemoryAsync(http, cancellationToken));
    }

    private async Task<List<TurnResult>> ConverseAsync(int conversation, CancellationToken cancellationToken)
    {
        var messages = new List<object>();
        var results = new List<TurnResult>();
        var questions = topics[conversation % topics.Count];
        for (int turn = 1; turn <= turns && !cancellationToken.IsCancellationRequested; turn++)
        {
            messages.Add(new { role = "user", content = questions[(turn - 1) % questions.Count] });
            var (result, answer) = await TurnAsync(turn, messages, cancellationToken);
            results.Add(result);
            if (!result.Ok) break;
            messages.Add(new { role = "assistant", content = answer });
        }
        return results;
    }

    private async Task<(TurnResult Result, string Answer)> TurnAsync(int turn, List<object> messages, CancellationToken cancellationToken)
    {
        var failed = new TurnResult(turn, false, 0, 0, 0, 0);
        try
        {
            var body = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["messages"] = messages, ["stream"] = true, ["stream_options"] = new Dictionary<string, bool> { ["include_usage"] = true },
                ["max_tokens"] = maxTokens, ["temperature"] = 0,
            });
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
            };
            var watch = Stopwatch.StartNew();
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode) return (failed, "");
            if (await ChatStream.ReadAsync(response, watch, cancellationToken) is not { } read) return (failed, "");
            var u = read.Usage;
            return (new TurnResult(turn, true, read.TtftMs, u.GetProperty("prompt_tokens").GetInt64(), read.CompletionTokens,
                u.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt64()), read.Answer);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (failed, "");
        }
    }
}
