using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Tests;

/// <summary>One API host shared by the cases that need no limits of their own.</summary>
public sealed class HostileApiFixture : IAsyncLifetime
{
    public ApiTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await ApiTestHost.StartAsync(new Dictionary<string, string?>(HostileInputCases.SharedSettings));

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>Hostile files uploaded to POST /v1/documents (ingested by the hosted worker) and hostile API requests.</summary>
public sealed class HostileInputApiTests(HostileApiFixture fixture) : IClassFixture<HostileApiFixture>
{
    [Theory]
    [MemberData(nameof(HostileInputCases.FileData), MemberType = typeof(HostileInputCases))]
    public async Task Hostile_upload_fails_its_job_clearly_and_nothing_partial_is_stored(HostileFile hostile)
    {
        await using var dedicated = hostile.Settings is null ? null : await ApiTestHost.StartAsync(new Dictionary<string, string?>(hostile.Settings));
        var host = dedicated ?? fixture.Host;

        var job = await UploadAsync(host, (hostile.FileName, hostile.Content()));

        var stored = await StoredAsync(host, hostile.FileName);
        if (hostile.Outcome == HostileOutcome.Stored)
        {
            Assert.Equal("succeeded", job.GetProperty("status").GetString());
            Assert.True(stored?.ChunkCount > 0, "the document must be stored with its chunks");
        }
        else if (hostile.Outcome == HostileOutcome.SkippedEmpty)
        {
            // Nothing to index is no failure: the job succeeds and says which file it skipped and why.
            Assert.Equal("succeeded", job.GetProperty("status").GetString());
            var note = Assert.Single(job.GetProperty("errors").EnumerateArray()).GetString()!;
            Assert.Contains(hostile.FileName, note);
            Assert.Contains($"skipped, {hostile.Rule}", note);
            Assert.Null(stored);
        }
        else
        {
            Assert.Equal("failed", job.GetProperty("status").GetString());
            var error = Assert.Single(job.GetProperty("errors").EnumerateArray()).GetString()!;
            Assert.Contains(hostile.FileName, error);
            Assert.Contains(hostile.Rule!, error, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("   at ", error); // no stack trace
            Assert.Null(stored);
        }
        await AssertHealthyAsync(host);
    }

    [Theory]
    [MemberData(nameof(HostileInputCases.RequestData), MemberType = typeof(HostileInputCases))]
    public async Task Hostile_request_is_refused_with_a_problem_naming_the_field_and_rule(HostileRequest hostile)
    {
        await using var dedicated = hostile.Settings is null ? null : await ApiTestHost.StartAsync(new Dictionary<string, string?>(hostile.Settings));
        var host = dedicated ?? fixture.Host;
        var documentsBefore = await DocumentCountAsync(host);

        using var response = await host.Client.PostAsync(hostile.Path, hostile.Body());

        Assert.Equal(hostile.Status, (int)response.StatusCode);
        // The OpenAI-compatible routes answer in OpenAI's error shape, the others with problem details.
        bool openAi = Api.OpenAi.OpenAiErrors.Covers(hostile.Path);
        Assert.Equal(openAi ? "application/json" : "application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var detail = (openAi ? body.GetProperty("error").GetProperty("message") : body.GetProperty("detail")).GetString();
        Assert.Contains(hostile.Rule, detail);
        Assert.DoesNotContain("   at ", detail);
        Assert.Equal(documentsBefore, await DocumentCountAsync(host));
        Assert.False(Directory.Exists(Path.Combine(host.Directory, "uploads")) && Directory.EnumerateFiles(Path.Combine(host.Directory, "uploads"), "*",
            SearchOption.AllDirectories).Any(f => f.Contains("harmless", StringComparison.Ordinal)));
        await AssertHealthyAsync(host);
    }

    [Fact]
    public async Task Unknown_json_fields_are_ignored_as_the_api_documents()
    {
        var plain = await fixture.Host.PostJsonAsync("/v1/search", new { query = "quokka", k = 3 });
        using var extra = new StringContent("""{"query":"quokka","k":3,"temperature":9,"nested":{"x":[1,2]},"QUERY":"other"}""", Encoding.UTF8, "application/json");
        var withUnknown = await fixture.Host.Client.PostAsync("/v1/search", extra);

        Assert.Equal(HttpStatusCode.OK, withUnknown.StatusCode);
        Assert.Equal(await plain.Content.ReadAsStringAsync(), await withUnknown.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task After_an_upload_of_every_hostile_file_a_normal_upload_still_succeeds()
    {
        var hostile = HostileInputCases.Files.Where(f => f.Settings is null).Select(f => (f.FileName, f.Content())).ToArray();
        var failed = await UploadAsync(fixture.Host, hostile);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal(hostile.Length - HostileInputCases.Files.Count(f => f.Settings is null && f.Outcome == HostileOutcome.Stored),
            failed.GetProperty("errors").GetArrayLength());

        var job = await UploadAsync(fixture.Host, ("normal-after-hostile.txt", Encoding.UTF8.GetBytes("The quokka colony of Rottnest island is the largest.")));

        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.True((await StoredAsync(fixture.Host, "normal-after-hostile.txt"))?.ChunkCount > 0);
        await AssertHealthyAsync(fixture.Host);
    }

    private static async Task<JsonElement> UploadAsync(ApiTestHost host, params (string Name, byte[] Content)[] files)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, content) in files)
        {
            var part = new ByteArrayContent(content);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", name);
        }
        var response = await host.Client.PostAsync("/v1/documents", form);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString();
        return await host.WaitForJobAsync(jobId!);
    }

    private static async Task AssertHealthyAsync(ApiTestHost host) =>
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/healthz")).StatusCode);

    private static async Task<int> DocumentCountAsync(ApiTestHost host) =>
        (await host.Services.GetRequiredService<IDocumentStore>().ListDocumentsAsync(0, 10_000)).Count;

    /// <summary>The stored document of an uploaded file (uploads are stored under their saved path).</summary>
    private static async Task<DocumentInfo?> StoredAsync(ApiTestHost host, string fileName)
    {
        var documents = await host.Services.GetRequiredService<IDocumentStore>().ListDocumentsAsync(0, 10_000);
        return documents.Where(d => Path.GetFileName(d.Source) == fileName).MaxBy(d => d.CreatedAt);
    }
}
