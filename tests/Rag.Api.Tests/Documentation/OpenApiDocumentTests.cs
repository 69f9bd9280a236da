using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using Rag.Orchestrator.Api.OpenAi;

namespace Rag.Orchestrator.Tests.Documentation;

/// <summary>The API with keys on and a small body limit, so that every middleware answer (401, 403, 413, 415) can be provoked.</summary>
public sealed class OpenApiFixture : IAsyncLifetime
{
    public const string Writer = "openapi-writer-key-0123456789";
    public const string OtherIndex = "openapi-other-index-key-5555";
    public const int MaxBodyBytes = 2048;

    public ApiTestHost Host { get; private set; } = null!;

    public JsonElement Document { get; private set; }

    public string DocumentText { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Host = await ApiTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Api:MaxBodyBytes"] = MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Api:Keys:0:Key"] = Writer, ["Api:Keys:0:Name"] = "writer", ["Api:Keys:0:CanWrite"] = "true",
            ["Api:Keys:1:Key"] = OtherIndex, ["Api:Keys:1:Name"] = "other", ["Api:Keys:1:Indexes:0"] = "archive",
        });
        DocumentText = await Host.Client.GetStringAsync("/openapi/v1.json");
        Document = JsonDocument.Parse(DocumentText).RootElement;
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>The OpenAPI document against the running app: the same routes, and every answer they give declared.</summary>
public class OpenApiDocumentTests(OpenApiFixture fixture) : IClassFixture<OpenApiFixture>
{
    private JsonElement Paths => fixture.Document.GetProperty("paths");

    private IEnumerable<(string Method, string Path, JsonElement Operation)> Operations =>
        Paths.EnumerateObject().SelectMany(path => path.Value.EnumerateObject().Select(op => (op.Name.ToUpperInvariant(), path.Name, op.Value)));

    [Fact]
    public void The_document_is_valid_openapi()
    {
        var (document, diagnostic) = OpenApiDocument.Parse(fixture.DocumentText, "json");

        Assert.Empty(diagnostic!.Errors);
        Assert.Empty(document!.Validate(ValidationRuleSet.GetDefaultRuleSet())!);
    }

    [Fact]
    public void The_document_lists_exactly_the_routes_of_the_app()
    {
        var endpoints = fixture.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>() is not null).ToList();
        var described = endpoints.Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true }).ToList();
        var routes = described.SelectMany(e => e.Metadata.GetRequiredMetadata<HttpMethodMetadata>().HttpMethods.Select(m => $"{m} {Template(e)}")).Order();

        Assert.Equal(routes, Operations.Select(o => $"{o.Method} {o.Path}").Order());
        // Guards against both sides shrinking together, and allows only the page and the document's own routes to be left out.
        Assert.Superset(new HashSet<string> { "POST /v1/chat/completions", "GET /v1/models", "GET /v1/models/{id}", "POST /v1/documents", "GET /v1/jobs/{id}" },
            routes.ToHashSet());
        Assert.All(endpoints.Except(described), e => Assert.False(
            Template(e).StartsWith("/v1", StringComparison.Ordinal) || Template(e).EndsWith("z", StringComparison.Ordinal), Template(e)));
    }

    [Fact]
    public void Each_operation_declares_keys_limits_and_the_shape_of_its_bodies()
    {
        var schemes = fixture.Document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("bearer").GetProperty("scheme").GetString());
        Assert.Equal("X-Api-Key", schemes.GetProperty("apiKey").GetProperty("name").GetString());
        Assert.Equal("header", schemes.GetProperty("apiKey").GetProperty("in").GetString());

        var wrong = new List<string>();
        foreach (var (method, path, operation) in Operations)
        {
            var responses = operation.GetProperty("responses");
            bool needsKey = path.StartsWith("/v1/", StringComparison.Ordinal);
            var security = operation.TryGetProperty("security", out var s) ? s.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).ToList() : [];
            if (needsKey != security.Order().SequenceEqual(["apiKey", "bearer"])) wrong.Add($"{method} {path}: security {string.Join(',', security)}");
            if (needsKey) Require(wrong, method, path, responses, "401", "403");
            if (operation.TryGetProperty("requestBody", out _)) Require(wrong, method, path, responses, "413", "415");
            if (path.Contains('{')) Require(wrong, method, path, responses, "404");

            foreach (var response in responses.EnumerateObject())
            {
                if (!response.Value.TryGetProperty("content", out var content))
                {
                    if (response.Name != "204") wrong.Add($"{method} {path} {response.Name}: no content");
                    continue;
                }
                foreach (var media in content.EnumerateObject())
                    if (!media.Value.TryGetProperty("schema", out _)) wrong.Add($"{method} {path} {response.Name} {media.Name}: no schema");
                if (int.Parse(response.Name) >= 400 && path != "/readyz")
                {
                    var (type, property) = OpenAiErrors.Covers(path) ? ("application/json", "error") : ("application/problem+json", "detail");
                    if (!content.TryGetProperty(type, out var error) || !Properties(error.GetProperty("schema")).Contains(property))
                        wrong.Add($"{method} {path} {response.Name}: error body is not {type} with '{property}'");
                }
            }
        }
        Assert.Empty(wrong);

        var chat = Paths.GetProperty("/v1/chat/completions").GetProperty("post").GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.Equal("#/components/schemas/ChatCompletion", chat.GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.Contains("delta", Properties(chat.GetProperty("text/event-stream").GetProperty("schema").GetProperty("properties").GetProperty("choices").GetProperty("items")));
        var ask = Paths.GetProperty("/v1/ask").GetProperty("post").GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.Equal(2, ask.GetProperty("text/event-stream").GetProperty("schema").GetProperty("oneOf").GetArrayLength());
        var upload = Paths.GetProperty("/v1/documents").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        var files = upload.GetProperty("multipart/form-data").GetProperty("schema").GetProperty("properties").GetProperty("files");
        Assert.Equal("binary", files.GetProperty("items").GetProperty("format").GetString());
        Assert.Equal("#/components/schemas/UploadDocumentsRequest", upload.GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        var job = Paths.GetProperty("/v1/jobs/{id}").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.Contains("status", Properties(job.GetProperty("application/json").GetProperty("schema")));
    }

    /// <summary>
    /// Sends each operation the requests that the middleware and handlers refuse (no key, another index's key, a
    /// wrong content type, an oversized body, unknown ids, an empty body) and checks that every status and
    /// content type that comes back is declared for it.
    /// </summary>
    [Fact]
    public async Task Every_status_the_routes_answer_is_declared_with_its_content_type()
    {
        var wrong = new List<string>();
        int probes = 0;
        foreach (var (method, path, operation) in Operations)
        {
            bool hasBody = operation.TryGetProperty("requestBody", out _);
            var url = string.Concat(path.Split('/').Select((segment, i) => (i == 0 ? "" : "/") + segment switch
            {
                "{ordinal}" => "0",
                ['{', .., '}'] => "missing",
                _ => segment,
            }));
            var requests = new List<(string Probe, string? Key, HttpContent? Body)>
            {
                ("no key", null, hasBody ? Json("{}") : null),
                ("another index's key", OpenApiFixture.OtherIndex, hasBody ? Json("{}") : null),
                ("empty or no body", OpenApiFixture.Writer, hasBody ? Json("{}") : null),
            };
            if (hasBody)
            {
                requests.Add(("text/plain", OpenApiFixture.Writer, new StringContent("{}", Encoding.UTF8, "text/plain")));
                requests.Add(("oversized", OpenApiFixture.Writer, Json($$"""{"query":"{{new string('x', OpenApiFixture.MaxBodyBytes)}}"}""")));
            }

            foreach (var (probe, key, body) in requests)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = body };
                if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                using var response = await fixture.Host.Client.SendAsync(request);
                probes++;
                var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                var mediaType = response.Content.Headers.ContentType?.MediaType;
                if (!operation.GetProperty("responses").TryGetProperty(status, out var declared))
                    wrong.Add($"{method} {path} ({probe}): {status} is not declared");
                else if (mediaType is not null && !(declared.TryGetProperty("content", out var content) && content.TryGetProperty(mediaType, out _)))
                    wrong.Add($"{method} {path} ({probe}): {status} {mediaType} is not declared");
            }
        }
        Assert.Empty(wrong);
        Assert.True(probes > 40, $"only {probes} probes were sent");
    }

    private static void Require(List<string> wrong, string method, string path, JsonElement responses, params string[] statuses) =>
        wrong.AddRange(statuses.Where(status => !responses.TryGetProperty(status, out _)).Select(status => $"{method} {path}: {status} not declared"));

    /// <summary>The property names of a schema, following a $ref into the document's components.</summary>
    private HashSet<string> Properties(JsonElement schema)
    {
        if (schema.TryGetProperty("$ref", out var reference))
            schema = reference.GetString()!.Split('/')[1..].Aggregate(fixture.Document, (node, part) => node.GetProperty(part));
        return schema.TryGetProperty("properties", out var properties) ? properties.EnumerateObject().Select(p => p.Name).ToHashSet() : [];
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Template(RouteEndpoint endpoint) =>
        "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter => $"{{{parameter.Name}}}",
            _ => "",
        }))));
}
