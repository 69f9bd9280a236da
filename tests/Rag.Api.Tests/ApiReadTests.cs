using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Api;

namespace Rag.Orchestrator.Tests;

/// <summary>One API over the ingested samples, without a generator, with small limits; the tests only read.</summary>
public sealed class SamplesApiFixture : IAsyncLifetime
{
    public const int MaxBodyBytes = 4096;

    public ApiTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ApiTestHost.StartAsync(new Dictionary<string, string?>
    {
        ["Api:MaxBodyBytes"] = MaxBodyBytes.ToString(),
        ["Ask:MaxK"] = "10",
        ["Ask:MaxQuestionChars"] = "200",
    }, ingestSamples: true);

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public class ApiReadTests(SamplesApiFixture fixture) : IClassFixture<SamplesApiFixture>
{
    private ApiTestHost Host => fixture.Host;

    [Fact]
    public async Task Search_finds_the_sample_that_answers()
    {
        var response = await Host.PostJsonAsync("/v1/search", new { query = "What hydration should a beginner use for sourdough dough?", k = 3 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("bm25", body.GetProperty("mode").GetString());
        var hits = body.GetProperty("hits").EnumerateArray().ToList();
        Assert.InRange(hits.Count, 1, 3);
        Assert.EndsWith("sourdough-bread.txt", hits[0].GetProperty("source").GetString());
        Assert.False(string.IsNullOrEmpty(hits[0].GetProperty("chunk_id").GetString()));
        Assert.Contains("hydration", hits[0].GetProperty("text").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Search_filters_by_source_prefix()
    {
        var response = await Host.PostJsonAsync("/v1/search",
            new { query = "sourdough hydration", k = 5, filters = new { source_prefix = "/nowhere/" } });

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(body.GetProperty("hits").EnumerateArray());
    }

    [Fact]
    public async Task Ask_without_a_generator_returns_the_notice_and_citations_but_no_answer()
    {
        var response = await Host.PostJsonAsync("/v1/ask", new { question = "How much starter goes into sourdough?", k = 3 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, body.GetProperty("answer").ValueKind);
        Assert.Contains("Generator:ModelPath", body.GetProperty("notice").GetString());
        var citations = body.GetProperty("citations").EnumerateArray().ToList();
        Assert.InRange(citations.Count, 1, 3);
        Assert.Equal(1, citations[0].GetProperty("number").GetInt32());
        Assert.Contains(citations, c => c.GetProperty("source").GetString()!.EndsWith("sourdough-bread.txt"));
        foreach (var field in new[] { "document_id", "chunk_id", "ordinal", "score", "snippet" })
            Assert.True(citations[0].TryGetProperty(field, out _), field);
    }

    [Fact]
    public async Task Streamed_ask_without_a_generator_sends_one_done_event_with_the_notice()
    {
        var response = await Host.PostJsonAsync("/v1/ask", new { question = "How much starter goes into sourdough?", k = 3, stream = true });

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = Sse.Parse(await response.Content.ReadAsStringAsync());
        var done = Assert.Single(events);
        Assert.Equal("done", done.Event);
        using var data = JsonDocument.Parse(done.Data);
        Assert.Contains("Generator:ModelPath", data.RootElement.GetProperty("notice").GetString());
        Assert.NotEmpty(data.RootElement.GetProperty("citations").EnumerateArray());
    }

    [Fact]
    public async Task Chat_completions_without_a_generator_is_503_naming_the_setting_in_openai_shape()
    {
        var response = await Host.PostJsonAsync("/v1/chat/completions", new { messages = new[] { new { role = "user", content = "Hi" } } });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Contains("Generator:ModelPath", error.GetProperty("message").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Models_is_an_empty_list_without_a_generator()
    {
        var list = await Host.Client.GetFromJsonAsync<JsonElement>("/v1/models");

        Assert.Equal("list", list.GetProperty("object").GetString());
        Assert.Empty(list.GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task Health_is_200_and_ready_without_a_model_is_200()
    {
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.GetAsync("/healthz")).StatusCode);
        var ready = await Host.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ok", body.GetProperty("store").GetString());
        Assert.Equal("not configured", body.GetProperty("generator").GetString());
    }

    [Fact]
    public async Task OpenApi_document_lists_the_endpoints_and_the_reference_ui_is_served()
    {
        var response = await Host.Client.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paths");
        foreach (var path in new[] { "/v1/chat/completions", "/v1/ask", "/v1/search", "/v1/documents", "/v1/documents/{id}", "/v1/jobs/{id}", "/readyz" })
            Assert.True(paths.TryGetProperty(path, out _), path);
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.GetAsync("/scalar/v1")).StatusCode);
    }

    [Theory]
    [InlineData("/v1/search", """{"query": "sourdough", "k": 11}""", "k must be between 1 and 10 (Ask:MaxK); got 11")]
    [InlineData("/v1/search", """{"query": "sourdough", "k": 0}""", "k must be between 1 and 10")]
    [InlineData("/v1/search", """{"query": "  "}""", "query is empty")]
    [InlineData("/v1/search", """{"query": "sourdough", "mode": "fuzzy"}""", "$.mode")]
    [InlineData("/v1/search", """{"query": "sourdough", "k": 3, "mode": "dense"}""", "Embeddings:ModelDirectory")]
    [InlineData("/v1/ask", """{"question": ""}""", "The question is empty")]
    [InlineData("/v1/ask", """{"question": "sourdough", "k": 1000}""", "Ask:MaxK")]
    [InlineData("/v1/ask", """{"question": "sourdough", "k": "many"}""", "$.k")]
    [InlineData("/v1/ask", """{"question": "sourdough", "filters": {"updated_from": "2026-02-01T00:00:00Z", "updated_to": "2026-01-01T00:00:00Z"}}""", "updated_from")]
    [InlineData("/v1/ask", """{"question": "sourdough",""", "not valid JSON")]
    [InlineData("/v1/documents", """{"documents": []}""", "documents is empty")]
    [InlineData("/v1/documents", """{"documents": [{"source": "a", "text": " "}]}""", "documents[0]: Document 'a' has no text.")]
    public async Task Bad_input_is_400_problem_details_naming_the_field_and_limit(string path, string json, string expected)
    {
        var response = await Host.Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Contains(expected, problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("   at ", await response.Content.ReadAsStringAsync()); // no stack trace
    }

    [Fact]
    public async Task An_over_long_question_names_the_limit()
    {
        var response = await Host.PostJsonAsync("/v1/ask", new { question = new string('x', 201) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Ask:MaxQuestionChars", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/v1/search")]
    [InlineData("/v1/documents")]
    public async Task A_wrong_content_type_is_415(string path)
    {
        var response = await Host.Client.PostAsync(path, new StringContent("query=sourdough", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("text/plain", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_naming_the_setting()
    {
        var body = JsonSerializer.Serialize(new { query = new string('x', SamplesApiFixture.MaxBodyBytes) });
        var response = await Host.Client.PostAsync("/v1/search", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("Api:MaxBodyBytes", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Paging_out_of_range_is_400_and_unknown_ids_are_404()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await Host.Client.GetAsync($"/v1/documents?take={RequestRules.MaxPageSize + 1}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Host.Client.GetAsync("/v1/documents?skip=-1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Client.GetAsync("/v1/documents/no-such-id")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Client.GetAsync("/v1/jobs/no-such-job")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Client.DeleteAsync("/v1/documents/no-such-id")).StatusCode);
    }

    [Fact]
    public async Task Listing_documents_shows_the_samples_with_chunk_counts()
    {
        var list = await Host.Client.GetFromJsonAsync<JsonElement>("/v1/documents?take=100");

        var documents = list.GetProperty("documents").EnumerateArray().ToList();
        Assert.Equal(6, documents.Count);
        var id = documents[0].GetProperty("id").GetString();
        var one = await Host.Client.GetFromJsonAsync<JsonElement>($"/v1/documents/{id}");
        Assert.Equal(documents[0].GetProperty("source").GetString(), one.GetProperty("source").GetString());
        Assert.True(one.GetProperty("chunk_count").GetInt32() > 0);
    }
}

/// <summary>A minimal server-sent events reader: events are separated by a blank line.</summary>
internal static class Sse
{
    public sealed record Message(string? Event, string Data);

    public static List<Message> Parse(string text) =>
        text.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block =>
        {
            string? name = null;
            var data = new List<string>();
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line["event: ".Length..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Add(line["data: ".Length..]);
                else throw new FormatException($"Unexpected SSE line '{line}'.");
            }
            return new Message(name, string.Join('\n', data));
        }).ToList();
}
