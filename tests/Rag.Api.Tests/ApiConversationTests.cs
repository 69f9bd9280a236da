using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Rag.Generator.Serving;

namespace Rag.Orchestrator.Tests;

/// <summary>Conversations through /v1/chat/completions: incremental retrieval, citation numbers, cached prompt tokens.</summary>
public class ApiConversationTests(GeneratorApiFixture fixture) : IClassFixture<GeneratorApiFixture>
{
    private const string Sourdough = "What hydration should a beginner use for sourdough dough?";
    private const string Sqlite = "How does SQLite keep readers and writers apart with the write-ahead log?";

    private async Task<JsonElement> AskAsync(List<object> messages, int? followUpPassages = null)
    {
        var response = await fixture.Host.PostJsonAsync("/v1/chat/completions",
            new { messages, temperature = 0, max_tokens = GeneratorApiFixture.MaxTokens, follow_up_passages = followUpPassages });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        messages.Add(new { role = "assistant", content = body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() });
        return body;
    }

    private static int PromptTokens(JsonElement body) => body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();

    private static int Cached(JsonElement body) => body.GetProperty("usage").ValueKind == JsonValueKind.Object
        ? body.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32()
        : throw new Xunit.Sdk.XunitException("no usage: " + body);

    private static List<(int Number, string ChunkId)> Citations(JsonElement body) =>
        body.GetProperty("citations").EnumerateArray().Select(c => (c.GetProperty("number").GetInt32(), c.GetProperty("chunk_id").GetString()!)).ToList();

    [Fact]
    public async Task A_follow_up_reads_only_new_passages_numbered_after_the_ones_already_read()
    {
        var messages = new List<object> { new { role = "user", content = Sourdough } };
        var first = await AskAsync(messages);
        var read = Citations(first);
        Assert.Equal(Enumerable.Range(1, read.Count), read.Select(c => c.Number));
        Assert.Equal(0, first.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());

        // The same question again finds the same passages: already read, so none is added and the numbers stay.
        messages.Add(new { role = "user", content = Sourdough });
        var again = await AskAsync(messages);
        Assert.Equal(read, Citations(again));

        // Another topic brings new passages, numbered after the ones already read, none of them read before.
        messages.Add(new { role = "user", content = Sqlite });
        var other = await AskAsync(messages);
        var cited = Citations(other);
        var added = cited.Where(c => c.Number > read.Count).ToList();
        Assert.NotEmpty(added);
        Assert.Equal(Enumerable.Range(read.Count + 1, added.Count), added.Select(c => c.Number));
        Assert.Empty(added.Select(c => c.ChunkId).Intersect(read.Select(c => c.ChunkId)));
        Assert.All(cited.Except(added), c => Assert.Contains(c, read));  // found again: cited under its first number

        // Each turn's prompt contains the previous turn whole (prompt and answer), and resumes from its kept state:
        // at least the previous prompt is cached.
        Assert.True(Cached(again) >= PromptTokens(first), $"{Cached(again)} cached tokens; the first prompt had {PromptTokens(first)}");
        Assert.True(Cached(other) >= PromptTokens(again), $"{Cached(other)} cached tokens; the second prompt had {PromptTokens(again)}");
        Assert.True(PromptTokens(other) > Cached(other));
    }

    [Fact]
    public async Task A_request_caps_the_new_passages_of_its_follow_up()
    {
        var messages = new List<object> { new { role = "user", content = Sourdough } };
        var read = Citations(await AskAsync(messages));

        // Another topic: its k = 2 passages are all new, but this request takes one.
        messages.Add(new { role = "user", content = Sqlite });
        var other = await AskAsync(messages, followUpPassages: 1);

        var added = Citations(other).Where(c => c.Number > read.Count).ToList();
        Assert.Equal([read.Count + 1], added.Select(c => c.Number));
        Assert.DoesNotContain(added[0].ChunkId, read.Select(c => c.ChunkId));
    }
}

/// <summary>The scheduler's limits through the API: one batch row, no queue.</summary>
public sealed class ApiSchedulerLimitTests : IAsyncLifetime
{
    private ApiTestHost _host = null!;

    public async Task InitializeAsync()
    {
        var settings = ApiTestHost.TinyGenerator(maxTokens: 100_000);
        settings["Generator:MaxBatchSize"] = "1";
        settings["Generator:MaxQueuedRequests"] = "0";
        settings["Generator:PrefillTokensPerStep"] = "16";
        _host = await ApiTestHost.StartAsync(settings, ingestSamples: true);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<HttpResponseMessage> StreamAsync(int maxTokens, string question = "Tell me about sourdough.", CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { messages = new[] { new { role = "user", content = question } }, stream = true, max_tokens = maxTokens, temperature = 0 }),
        };
        return _host.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    [Fact]
    public async Task A_full_queue_answers_429_with_retry_after_and_a_disconnect_frees_the_row_at_once()
    {
        var scheduler = _host.Services.GetRequiredService<GenerationScheduler>();
        using var leave = new CancellationTokenSource();
        // Prefilled 16 tokens a step, its prompt holds the only row for a while before the first token.
        var holding = StreamAsync(100_000, "What is reciprocal rank fusion?", leave.Token);
        for (int i = 0; i < 500 && scheduler.ActiveCount == 0; i++) await Task.Delay(10);
        Assert.Equal(1, scheduler.ActiveCount);

        var refused = await _host.PostJsonAsync("/v1/chat/completions", new { messages = new[] { new { role = "user", content = "What hydration should a beginner use for sourdough dough?" } } });
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        var error = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.Contains("MaxQueuedRequests", error.GetProperty("message").GetString());

        // The client goes away: its row is free by the next step, long before its 100,000 tokens.
        await leave.CancelAsync();
        try
        {
            (await holding).Dispose();  // already streaming: closing the response aborts the request
        }
        catch (OperationCanceledException)
        {
        }
        Assert.True(await Task.Run(() => scheduler.WaitIdle(TimeSpan.FromSeconds(30))), "the disconnected request still holds its row");
        var next = await StreamAsync(4);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Contains("data: [DONE]", await next.Content.ReadAsStringAsync());
    }
}
