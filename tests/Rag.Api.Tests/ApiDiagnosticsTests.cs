using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Rag.Orchestrator.Benchmarks;

namespace Rag.Orchestrator.Tests;

/// <summary>The memory endpoints, and the load run that reads them (over the tiny generator).</summary>
public class ApiDiagnosticsTests(GeneratorApiFixture fixture) : IClassFixture<GeneratorApiFixture>
{
    private ApiTestHost Host => fixture.Host;

    [Fact]
    public async Task Memory_report_names_the_heap_and_collect_runs_a_full_gc()
    {
        var report = await Host.Client.GetFromJsonAsync<JsonElement>("/v1/diagnostics/memory");
        Assert.True(report.GetProperty("heap_bytes").GetInt64() > 0);
        Assert.True(report.GetProperty("working_set_bytes").GetInt64() >= report.GetProperty("heap_bytes").GetInt64());
        int gen2Before = report.GetProperty("gen2_collections").GetInt32();

        var collected = await Host.Client.PostAsync("/v1/diagnostics/memory/collect", null);

        Assert.Equal(HttpStatusCode.OK, collected.StatusCode);
        var after = await collected.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(after.GetProperty("gen2_collections").GetInt32() >= gen2Before + 2);
    }

    [Fact]
    public async Task Load_run_drives_ask_and_streaming_chat_without_errors_and_reads_the_live_heap()
    {
        var bench = new ApiLoadBenchmark(Host.Client, "What hydration should a beginner use for sourdough dough?", maxTokens: 4);

        var row = await bench.RunAsync(concurrency: 2, TimeSpan.FromSeconds(2), CancellationToken.None);

        Assert.Equal(0, row.Errors);
        Assert.True(row.Requests >= 2, $"only {row.Requests} requests in 2 s");
        Assert.True(row.P50Ms > 0 && row.P50Ms <= row.P95Ms && row.P95Ms <= row.P99Ms);
        // Every answer writes at least one token (end of text counts), and its usage says so.
        Assert.True(row.CompletionTokens >= row.Requests, $"{row.CompletionTokens} tokens for {row.Requests} answers");
        Assert.Equal(row.CompletionTokens / (row.Requests / row.RequestsPerSecond), row.TokensPerSecond, 6);
        Assert.True(row.Before!.HeapBytes > 0);
        Assert.True(row.After!.HeapBytes > 0);
        Assert.NotNull(ApiLoadBenchmark.HeapGrowth([row]));
    }

    [Fact]
    public async Task Conversation_run_asks_one_topic_per_conversation_and_compares_its_follow_ups_with_turn_1()
    {
        string[][] topics = [["What hydration should a beginner use for sourdough dough?", "How often should the starter be fed?"]];
        var bench = new ConversationLoadBenchmark(Host.Client, topics, turns: 3, maxTokens: 4);

        var row = await bench.RunAsync(conversations: 1, CancellationToken.None);

        Assert.Equal((3, 0), (row.Requests, row.Errors));
        Assert.Equal([1, 2, 3], row.Turns.Select(t => t.Turn));
        // Each follow-up resumes the state of the turn before: part of its prompt is not prefilled again.
        Assert.All(row.Turns.Skip(1), t => Assert.True(t.MeanPrefilled < t.MeanPromptTokens, $"turn {t.Turn}: {t.MeanPrefilled} of {t.MeanPromptTokens} prefilled"));
        var comparison = FollowUpComparison.Of(row.Turns)!;
        Assert.Equal(3, comparison.LastTurn);
        Assert.Equal(row.Turns[0].MeanPrefilled, comparison.FirstPrefilled);
    }

    [Fact]
    public void Follow_ups_are_compared_with_turn_1_per_request_weighted_by_their_requests()
    {
        // Turn 3 completed fewer requests than turn 2 (a conversation stopped): the mean is per request, not per turn.
        TurnStats[] turns = [new(1, 4, 15_000, 15_000, 900, 1_000), new(2, 4, 16_000, 1_200, 150, 200), new(3, 2, 17_500, 600, 120, 130)];

        var comparison = FollowUpComparison.Of(turns)!;

        Assert.Equal(3, comparison.LastTurn);
        Assert.Equal(1_000, comparison.FollowUpPrefilled, 6);  // (4 × 1,200 + 2 × 600) / 6
        Assert.Equal(15.0, comparison.Ratio, 6);
        Assert.Equal((900, 120, 150), (comparison.FirstTtftP50Ms, comparison.FollowUpTtftP50MinMs, comparison.FollowUpTtftP50MaxMs));
        Assert.Null(FollowUpComparison.Of(turns[..1]));
        Assert.Null(FollowUpComparison.Of(turns[1..]));
    }

    [Theory]
    [InlineData(new long[] { 10, 14, 15 }, true)]   // 2 MiB of warm-up in the first level is not growth; +0.5 MiB after it is noise
    [InlineData(new long[] { 10, 11, 14 }, false)]  // +1.5 MiB after the first level: a leak
    [InlineData(new long[] { 10, 11 }, true)]       // one level: judged from before it
    [InlineData(new long[] { 10, 40 }, false)]
    public void Heap_growth_is_judged_from_the_first_warmed_up_idle_reading(long[] halfMibs, bool flat)
    {
        // Idle live heap readings in half-MiB: before the first level, then after each level (also before the next).
        ServerMemory Reading(int i) => new(halfMibs[i] << 19, 0);
        var rows = Enumerable.Range(0, halfMibs.Length - 1).Select(i => new ApiLoadRow(1, 1, 0, 1, 1, 1, 1, 1, 1, Reading(i), Reading(i + 1))).ToList();

        Assert.Equal(flat, ApiLoadBenchmark.HeapGrowth(rows)!.Value.Flat);
    }
}
