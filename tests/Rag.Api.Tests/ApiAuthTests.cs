using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace Rag.Orchestrator.Tests;

public sealed class KeyedApiFixture : IAsyncLifetime
{
    public const string Reader = "reader-key-0123456789";
    public const string Writer = "writer-key-9876543210";
    public const string OtherIndex = "other-index-key-5555";

    public ApiTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ApiTestHost.StartAsync(new Dictionary<string, string?>
    {
        ["Api:Keys:0:Key"] = Reader, ["Api:Keys:0:Name"] = "reader", ["Api:Keys:0:Indexes:0"] = "*",
        ["Api:Keys:1:Key"] = Writer, ["Api:Keys:1:Name"] = "writer", ["Api:Keys:1:Indexes:0"] = "default", ["Api:Keys:1:CanWrite"] = "true",
        ["Api:Keys:2:Key"] = OtherIndex, ["Api:Keys:2:Name"] = "other", ["Api:Keys:2:Indexes:0"] = "archive", ["Api:Keys:2:CanWrite"] = "true",
    });

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public class ApiAuthTests(KeyedApiFixture fixture) : IClassFixture<KeyedApiFixture>
{
    private static readonly object Upload = new { documents = new[] { new { source = "auth.txt", text = "Keys guard writes." } } };

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, Action<HttpRequestHeaders>? auth)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body, options: ApiTestHost.Json) };
        auth?.Invoke(request.Headers);
        return fixture.Host.Client.SendAsync(request);
    }

    private static Action<HttpRequestHeaders> Bearer(string key) => h => h.Authorization = new AuthenticationHeaderValue("Bearer", key);

    private static Action<HttpRequestHeaders> XApiKey(string key) => h => h.Add("X-Api-Key", key);

    [Fact]
    public async Task No_key_or_a_wrong_key_is_401_problem_details()
    {
        foreach (var auth in new[] { null, Bearer("wrong"), XApiKey(KeyedApiFixture.Reader + "x") })
        {
            var response = await SendAsync(HttpMethod.Post, "/v1/search", new { query = "keys" }, auth);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain(KeyedApiFixture.Reader, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_valid_key_reads_through_either_header()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "/v1/search", new { query = "keys" }, Bearer(KeyedApiFixture.Reader))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/v1/documents", null, XApiKey(KeyedApiFixture.Reader))).StatusCode);
    }

    [Fact]
    public async Task Writing_needs_a_key_with_write_permission()
    {
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "/v1/documents", Upload, Bearer(KeyedApiFixture.Reader))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Delete, "/v1/documents/x", null, Bearer(KeyedApiFixture.Reader))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(HttpMethod.Post, "/v1/documents", Upload, Bearer(KeyedApiFixture.Writer))).StatusCode);
    }

    [Fact]
    public async Task A_key_for_another_index_is_403_everywhere()
    {
        var response = await SendAsync(HttpMethod.Post, "/v1/search", new { query = "keys" }, Bearer(KeyedApiFixture.OtherIndex));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("default", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "/v1/documents", Upload, Bearer(KeyedApiFixture.OtherIndex))).StatusCode);
    }

    [Fact]
    public async Task Every_v1_route_is_401_without_a_key_and_403_with_a_key_for_another_index()
    {
        var routes = fixture.Host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/v1", StringComparison.Ordinal) == true)
            .SelectMany(e => e.Metadata.GetRequiredMetadata<HttpMethodMetadata>().HttpMethods.Select(method => (Method: method, Pattern: e.RoutePattern)))
            .ToList();
        // Guards against a vacuous pass if the enumeration stopped finding endpoints (a group's "" route ends in '/').
        Assert.Superset(
            new HashSet<string> { "POST /v1/search", "POST /v1/ask", "POST /v1/chat/completions", "POST /v1/documents", "GET /v1/documents",
                "GET /v1/documents/{id}", "DELETE /v1/documents/{id}", "GET /v1/jobs/{id}" },
            routes.Select(r => $"{r.Method} {r.Pattern.RawText!.TrimEnd('/')}").ToHashSet());

        var wrong = new List<string>();
        foreach (var (method, pattern) in routes)
        {
            object? body = HttpMethods.IsPost(method) || HttpMethods.IsPut(method) ? new { } : null;
            foreach (var (auth, expected) in new[] { (null, HttpStatusCode.Unauthorized), (Bearer(KeyedApiFixture.OtherIndex), HttpStatusCode.Forbidden) })
            {
                var status = (await SendAsync(new HttpMethod(method), WithParameters(pattern), body, auth)).StatusCode;
                if (status != expected) wrong.Add($"{method} {pattern.RawText} {(auth is null ? "without a key" : "with the other index's key")}: {status}");
            }
        }
        Assert.Empty(wrong);
    }

    /// <summary>The route's path with every parameter set to "x" (or "0" where the route takes only numbers).</summary>
    private static string WithParameters(RoutePattern pattern) =>
        "/" + string.Join('/', pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart { ParameterPolicies.Count: > 0 } => "0",
            _ => "x",
        }))));

    [Fact]
    public async Task Health_needs_no_key()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/healthz", null, null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/readyz", null, null)).StatusCode);
    }
}
