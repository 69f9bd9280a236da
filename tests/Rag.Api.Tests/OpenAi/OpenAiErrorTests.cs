using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Rag.Orchestrator.Api;
using Rag.Orchestrator.Api.OpenAi;

namespace Rag.Orchestrator.Tests.OpenAi;

/// <summary>The tiny generator behind API keys, with a small body limit so that a 413 is cheap to provoke.</summary>
public sealed class OpenAiApiFixture : IAsyncLifetime
{
    public const string Key = "openai-reader-key-0123456789";
    public const string OtherIndexKey = "openai-other-index-key-5555";
    public const int MaxBodyBytes = 4096;

    public ApiTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var settings = ApiTestHost.TinyGenerator();
        settings["Api:MaxBodyBytes"] = MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Api:Keys:0:Key"] = Key;
        settings["Api:Keys:0:Name"] = "reader";
        settings["Api:Keys:1:Key"] = OtherIndexKey;
        settings["Api:Keys:1:Name"] = "other";
        settings["Api:Keys:1:Indexes:0"] = "archive";
        Host = await ApiTestHost.StartAsync(settings);
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <param name="Key">The API key sent as Bearer, or null for none.</param>
/// <param name="Message">Text the error's message must contain (the field and the rule).</param>
public sealed record OpenAiErrorCase(string Name, HttpMethod Method, string Path, string? Body, string? ContentType, string? Key,
    int Status, string Type, string? Code, string? Param, string Message)
{
    public override string ToString() => Name;
}

public class OpenAiErrorTests(OpenAiApiFixture fixture) : IClassFixture<OpenAiApiFixture>
{
    private const string Chat = "/v1/chat/completions";
    private const string Question = """{"messages":[{"role":"user","content":"sourdough?"}]""";
    private static readonly string Model = Path.GetFileNameWithoutExtension(TinyRwkv.ModelPath);

    public static TheoryData<OpenAiErrorCase> Cases() =>
    [
        new("max-tokens", HttpMethod.Post, Chat, Question + ""","max_tokens":13}""", "application/json", OpenAiApiFixture.Key,
            400, "invalid_request_error", null, "max_tokens", "max_tokens must be between 1 and 12 (Generator:MaxTokens); got 13"),
        new("follow-up-passages", HttpMethod.Post, Chat, Question + ""","follow_up_passages":-1}""", "application/json", OpenAiApiFixture.Key,
            400, "invalid_request_error", null, "follow_up_passages", "follow_up_passages must be between 0 and 1024 (Ask:MaxK); got -1."),
        new("wrong-json-type", HttpMethod.Post, Chat, Question + ""","stop":5}""", "application/json", OpenAiApiFixture.Key,
            400, "invalid_request_error", null, "stop", "$.stop"),
        new("last-message-not-user", HttpMethod.Post, Chat, """{"messages":[{"role":"assistant","content":"Hi"}]}""", "application/json", OpenAiApiFixture.Key,
            400, "invalid_request_error", null, "messages[0].role", "the last message must be the user's question"),
        new("no-key", HttpMethod.Post, Chat, Question + "}", "application/json", null,
            401, "invalid_request_error", "invalid_api_key", null, "Send an API key as 'Authorization: Bearer <key>'"),
        new("wrong-key", HttpMethod.Get, "/v1/models", null, null, "not-a-key",
            401, "invalid_request_error", "invalid_api_key", null, "the key was missing or is not valid"),
        new("other-index-key", HttpMethod.Get, "/v1/models", null, null, OpenAiApiFixture.OtherIndexKey,
            403, "invalid_request_error", "insufficient_permissions", null, "index 'default'"),
        new("unknown-model", HttpMethod.Get, "/v1/models/gpt-4o", null, null, OpenAiApiFixture.Key,
            404, "invalid_request_error", "model_not_found", "model", $"The model 'gpt-4o' does not exist; this server serves '{Model}'"),
        new("chat-unknown-model", HttpMethod.Post, Chat, """{"model":"gpt-4o","messages":[{"role":"user","content":"sourdough?"}]}""", "application/json",
            OpenAiApiFixture.Key, 404, "invalid_request_error", "model_not_found", "model", "The model 'gpt-4o' does not exist"),
        new("no-such-route", HttpMethod.Get, "/v1/models/a/b", null, null, OpenAiApiFixture.Key,
            404, "invalid_request_error", "not_found", null, "There is no endpoint at /v1/models/a/b"),
        new("body-too-large", HttpMethod.Post, Chat, Question + $$""","user":"{{new string('x', OpenAiApiFixture.MaxBodyBytes)}}"}""", "application/json",
            OpenAiApiFixture.Key, 413, "invalid_request_error", "request_too_large", null, $"the limit is {OpenAiApiFixture.MaxBodyBytes} (Api:MaxBodyBytes)"),
        new("text-plain", HttpMethod.Post, Chat, Question + "}", "text/plain", OpenAiApiFixture.Key,
            415, "invalid_request_error", "unsupported_media_type", null, "is not accepted by POST /v1/chat/completions; send application/json"),
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Errors_of_the_openai_routes_have_openai_shape_status_and_message(OpenAiErrorCase error)
    {
        var request = new HttpRequestMessage(error.Method, error.Path);
        if (error.Body is not null) request.Content = new StringContent(error.Body, Encoding.UTF8, error.ContentType!);
        if (error.Key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", error.Key);

        var response = await fixture.Host.Client.SendAsync(request);

        Assert.Equal(error.Status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["error"], body.EnumerateObject().Select(p => p.Name));
        var e = body.GetProperty("error");
        Assert.Equal(["message", "type", "param", "code"], e.EnumerateObject().Select(p => p.Name));
        Assert.Contains(error.Message, e.GetProperty("message").GetString());
        Assert.Equal(error.Type, e.GetProperty("type").GetString());
        Assert.Equal(error.Code, e.GetProperty("code").GetString());
        Assert.Equal(error.Param, e.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Models_lists_and_retrieves_the_loaded_generator()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", OpenAiApiFixture.Key);
        JsonElement list = default;
        // The model loads in the background: the list is empty until then (bounded wait for a broken load).
        for (int attempt = 0; attempt < 100; attempt++, await Task.Delay(100))
        {
            using var again = new HttpRequestMessage(HttpMethod.Get, "/v1/models") { Headers = { Authorization = request.Headers.Authorization } };
            list = await (await fixture.Host.Client.SendAsync(again)).Content.ReadFromJsonAsync<JsonElement>();
            if (list.GetProperty("data").GetArrayLength() > 0) break;
        }

        Assert.Equal("list", list.GetProperty("object").GetString());
        var model = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal(Model, model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.Equal(new DateTimeOffset(File.GetLastWriteTimeUtc(TinyRwkv.ModelPath)).ToUnixTimeSeconds(), model.GetProperty("created").GetInt64());

        using var retrieve = new HttpRequestMessage(HttpMethod.Get, $"/v1/models/{Model}") { Headers = { Authorization = request.Headers.Authorization } };
        var one = await fixture.Host.Client.SendAsync(retrieve);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal(model.ToString(), (await one.Content.ReadFromJsonAsync<JsonElement>()).ToString());
    }

    [Fact]
    public async Task The_rate_limit_helper_answers_429_with_retry_after_in_openai_shape()
    {
        await using var services = new ServiceCollection().ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions)).BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Response.Body = new MemoryStream();

        await OpenAiErrors.TooManyRequests("The generation queue is full (Generator:MaxQueue = 4).", TimeSpan.FromSeconds(2.2)).ExecuteAsync(context);

        Assert.Equal(StatusCodes.Status429TooManyRequests, context.Response.StatusCode);
        Assert.Equal("3", context.Response.Headers.RetryAfter.ToString());
        context.Response.Body.Position = 0;
        var e = JsonDocument.Parse(context.Response.Body).RootElement.GetProperty("error");
        Assert.Equal("The generation queue is full (Generator:MaxQueue = 4).", e.GetProperty("message").GetString());
        Assert.Equal("rate_limit_error", e.GetProperty("type").GetString());
        Assert.Equal("rate_limit_exceeded", e.GetProperty("code").GetString());
    }
}
