using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Rag.Orchestrator.Tests;

/// <summary>The API over the samples with the tiny RWKV-7 fixture as generator (greedy, few tokens).</summary>
public sealed class GeneratorApiFixture : IAsyncLifetime
{
    public const int MaxTokens = 12;

    public ApiTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Host = await ApiTestHost.StartAsync(ApiTestHost.TinyGenerator(MaxTokens), ingestSamples: true);

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public class ApiChatTests(GeneratorApiFixture fixture) : IClassFixture<GeneratorApiFixture>
{
    private ApiTestHost Host => fixture.Host;

    private static object Request(bool stream, object? extra = null) => new Dictionary<string, object?>
    {
        ["model"] = Path.GetFileNameWithoutExtension(TinyRwkv.ModelPath),
        ["messages"] = new object[]
        {
            new { role = "system", content = "You are terse." },
            new { role = "user", content = "Hello" },
            new { role = "assistant", content = "Hi." },
            new { role = "user", content = "What hydration should a beginner use for sourdough dough?" },
        },
        ["temperature"] = 0,
        ["max_tokens"] = GeneratorApiFixture.MaxTokens,
        ["seed"] = 7,
        ["stream"] = stream,
        ["stream_options"] = stream ? new { include_usage = true } : null,
        ["some_unknown_field"] = extra ?? "ignored",
    };

    [Fact]
    public async Task Non_streaming_completion_has_the_openai_shape_usage_and_citations()
    {
        var response = await Host.PostJsonAsync("/v1/chat/completions", Request(stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.StartsWith("chatcmpl-", body.GetProperty("id").GetString());
        var choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Contains(choice.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        var usage = body.GetProperty("usage");
        Assert.InRange(usage.GetProperty("completion_tokens").GetInt32(), 1, GeneratorApiFixture.MaxTokens);
        Assert.True(usage.GetProperty("prompt_tokens").GetInt32() > 0);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(),
            usage.GetProperty("total_tokens").GetInt32());
        var citations = body.GetProperty("citations").EnumerateArray().ToList();
        Assert.InRange(citations.Count, 1, 2); // Ask:DefaultK = 2
        Assert.EndsWith("sourdough-bread.txt", citations.Select(c => c.GetProperty("source").GetString()).First(s => s!.Contains("sourdough")));
    }

    [Fact]
    public async Task Streaming_sends_role_then_content_then_finish_then_done_and_matches_the_non_streaming_text()
    {
        var whole = await (await Host.PostJsonAsync("/v1/chat/completions", Request(stream: false))).Content.ReadFromJsonAsync<JsonElement>();
        var expected = whole.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();

        var response = await Host.PostJsonAsync("/v1/chat/completions", Request(stream: true));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = Sse.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e.Data).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());

        var first = chunks[0];
        Assert.Equal("assistant", first.GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.NotEmpty(first.GetProperty("citations").EnumerateArray());

        var usageChunk = chunks[^1]; // stream_options.include_usage: no choices, only usage
        Assert.Empty(usageChunk.GetProperty("choices").EnumerateArray());
        Assert.Equal(whole.GetProperty("usage").GetProperty("completion_tokens").GetInt32(),
            usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var finish = chunks[^2].GetProperty("choices")[0];
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("finish_reason").GetString(), finish.GetProperty("finish_reason").GetString());
        Assert.False(finish.GetProperty("delta").TryGetProperty("content", out _));

        var content = chunks.Skip(1).SkipLast(2).ToList();
        Assert.NotEmpty(content);
        foreach (var chunk in content)
        {
            var c = chunk.GetProperty("choices")[0];
            Assert.Equal(JsonValueKind.Null, c.GetProperty("finish_reason").ValueKind);
            Assert.False(c.GetProperty("delta").TryGetProperty("role", out _));
            Assert.False(chunk.TryGetProperty("citations", out _));
        }
        Assert.Equal(expected, string.Concat(content.Select(c => c.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString())));
    }

    [Fact]
    public async Task Generated_tokens_and_requests_are_counted_on_the_Rag_Api_meter()
    {
        long tokens = 0, requests = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Api.ApiMetrics.MeterName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "rag.api.generated_tokens") Interlocked.Add(ref tokens, value);
            if (instrument.Name == "rag.api.requests") Interlocked.Add(ref requests, value);
        });
        listener.Start();

        var body = await (await Host.PostJsonAsync("/v1/chat/completions", Request(stream: false))).Content.ReadFromJsonAsync<JsonElement>();

        Assert.True(Interlocked.Read(ref tokens) >= body.GetProperty("usage").GetProperty("completion_tokens").GetInt64());
        Assert.True(Interlocked.Read(ref requests) >= 1);
    }

    [Fact]
    public async Task Ask_with_a_generator_answers_and_cites()
    {
        var body = await (await Host.PostJsonAsync("/v1/ask", new { question = "What hydration should a beginner use for sourdough dough?" }))
            .Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(JsonValueKind.String, body.GetProperty("answer").ValueKind);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("notice").ValueKind);
        Assert.NotEmpty(body.GetProperty("citations").EnumerateArray());
        // The prompt holds the passages and the question; the answer at least its end-of-text token.
        var usage = body.GetProperty("usage");
        Assert.True(usage.GetProperty("prompt_tokens").GetInt64() > 20, usage.ToString());
        Assert.True(usage.GetProperty("completion_tokens").GetInt64() >= 1, usage.ToString());
    }

    [Fact]
    public async Task Streamed_ask_sends_tokens_then_citations()
    {
        var response = await Host.PostJsonAsync("/v1/ask", new { question = "What hydration should a beginner use for sourdough dough?", stream = true });

        var events = Sse.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("done", events[^1].Event);
        Assert.All(events.SkipLast(1), e => Assert.Equal("token", e.Event));
        Assert.NotEmpty(JsonDocument.Parse(events[^1].Data).RootElement.GetProperty("citations").EnumerateArray());
    }

    [Fact]
    public async Task Ready_once_the_model_is_loaded()
    {
        HttpResponseMessage ready;
        int attempts = 0;
        // The model loads in the background; the tiny fixture takes well under a second, this bounds a broken load.
        while ((ready = await Host.Client.GetAsync("/readyz")).StatusCode != HttpStatusCode.OK && ++attempts < 100)
            await Task.Delay(100);

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready", (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("generator").GetString());
    }

    [Theory]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 13}""", "max_tokens must be between 1 and 12 (Generator:MaxTokens); got 13")]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": 0}""", "max_completion_tokens must be between 1 and 12")]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}], "temperature": 3}""", "temperature must be between 0 and 2")]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}], "stop": 5}""", "$.stop")]
    [InlineData("""{"messages": []}""", "messages is empty")]
    [InlineData("""{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hey"}]}""", "messages[1].role is 'assistant'")]
    [InlineData("""{"messages": [{"role": "tool", "content": "x"}, {"role": "user", "content": "Hi"}]}""", "messages[0].role 'tool' is not supported")]
    [InlineData("""{"messages": [{"role": "user", "content": " "}]}""", "The question is empty")]
    public async Task Bad_chat_requests_are_400_naming_the_field(string json, string expected)
    {
        var response = await Host.Client.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task Content_parts_and_a_stop_string_are_accepted()
    {
        var json = """{"messages": [{"role": "user", "content": [{"type": "text", "text": "sourdough "}, {"type": "text", "text": "hydration?"}]}], "stop": "\n", "max_tokens": 2}""";

        var response = await Host.Client.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var usage = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("usage");
        Assert.InRange(usage.GetProperty("completion_tokens").GetInt32(), 1, 2);
    }
}
