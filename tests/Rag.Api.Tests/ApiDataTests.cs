using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Tests;

/// <summary>Uploads deduplicated by content, deletes that take the uploaded file along, and asks that find nothing.</summary>
public sealed class ApiDataTests
{
    [Fact]
    public async Task The_same_content_uploaded_three_times_is_one_document_reported_unchanged()
    {
        await using var host = await ApiTestHost.StartAsync();
        const string text = "The quokka colony of Rottnest island is the largest.";

        var first = await UploadAsync(host, ("quokkas.txt", text));
        var again = await UploadAsync(host, ("quokkas.txt", text));
        var renamed = await UploadAsync(host, ("copy-of-quokkas.txt", text));

        Assert.Equal((1, 0), (first.GetProperty("added").GetInt32(), first.GetProperty("unchanged").GetInt32()));
        foreach (var job in new[] { again, renamed })
            Assert.Equal((0, 1), (job.GetProperty("added").GetInt32(), job.GetProperty("unchanged").GetInt32()));
        var documents = (await host.Client.GetFromJsonAsync<JsonElement>("/v1/documents")).GetProperty("documents");
        Assert.Equal(1, documents.GetArrayLength());
        var saved = Assert.Single(Directory.GetFiles(Path.Combine(host.Directory, "uploads"), "*", SearchOption.AllDirectories));
        Assert.Equal(saved, documents[0].GetProperty("source").GetString());
        Assert.Equal("quokkas.txt", Path.GetFileName(saved));
    }

    [Fact]
    public async Task Deleting_an_uploaded_document_deletes_its_file()
    {
        await using var host = await ApiTestHost.StartAsync();
        await UploadAsync(host, ("keep.txt", "Wombats dig burrows."), ("drop.txt", "Numbats eat termites."));
        var documents = (await host.Client.GetFromJsonAsync<JsonElement>("/v1/documents")).GetProperty("documents").EnumerateArray().ToList();
        var drop = documents.Single(d => d.GetProperty("source").GetString()!.EndsWith("drop.txt", StringComparison.Ordinal));
        var dropPath = drop.GetProperty("source").GetString()!;
        Assert.True(File.Exists(dropPath));

        var response = await host.Client.DeleteAsync($"/v1/documents/{drop.GetProperty("id").GetString()}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.False(File.Exists(dropPath));
        Assert.False(Directory.Exists(Path.GetDirectoryName(dropPath)));
        var left = Assert.Single(Directory.GetFiles(Path.Combine(host.Directory, "uploads"), "*", SearchOption.AllDirectories));
        Assert.Equal("keep.txt", Path.GetFileName(left));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Ask_with_no_passage_retrieved_answers_that_nothing_relevant_was_found(bool stream)
    {
        await using var host = await ApiTestHost.StartAsync(ApiTestHost.TinyGenerator(), ingestSamples: true);

        var response = await host.PostJsonAsync("/v1/ask", new { question = "What is write-ahead logging?", filters = new { tags = new[] { "no-such-tag" } }, stream });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (!stream)
        {
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(AskService.NothingFoundAnswer, body.GetProperty("answer").GetString());
            Assert.Equal(0, body.GetProperty("citations").GetArrayLength());
            return;
        }
        var events = Sse.Parse(await response.Content.ReadAsStringAsync());
        var text = string.Concat(events.Where(e => e.Event == "token").Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("text").GetString()));
        Assert.Equal(AskService.NothingFoundAnswer, text);
        Assert.Equal(0, JsonDocument.Parse(events[^1].Data).RootElement.GetProperty("citations").GetArrayLength());
    }

    /// <summary>Uploads the files in one multipart request and waits for the job; returns the finished job.</summary>
    private static async Task<JsonElement> UploadAsync(ApiTestHost host, params (string Name, string Text)[] files)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, text) in files)
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
            content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            form.Add(content, "files", name);
        }
        var upload = await host.Client.PostAsync("/v1/documents", form);
        Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        var job = await host.WaitForJobAsync((await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        return job;
    }
}
