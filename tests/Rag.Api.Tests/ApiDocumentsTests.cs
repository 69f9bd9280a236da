using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Rag.Orchestrator.Tests;

public class ApiDocumentsTests
{
    private const string Query = "Which quokka colony lives on Rottnest island?";

    [Fact]
    public async Task Uploaded_text_becomes_a_job_is_searchable_and_delete_removes_it()
    {
        await using var host = await ApiTestHost.StartAsync();
        var upload = await host.PostJsonAsync("/v1/documents", new
        {
            documents = new[] { new { source = "notes/quokkas.txt", text = "The quokka colony of Rottnest island is the largest.", title = "Quokkas" } },
            tags = new[] { "wildlife" },
        });

        Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        var jobId = (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString();
        Assert.Equal($"/v1/jobs/{jobId}", upload.Headers.Location?.OriginalString);
        var job = await host.WaitForJobAsync(jobId!);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(1, job.GetProperty("added").GetInt32());

        var hit = await SearchAsync(host, "wildlife");
        Assert.Equal("notes/quokkas.txt", hit?.GetProperty("source").GetString());
        Assert.Null(await SearchAsync(host, "other-tag"));

        var documentId = hit!.Value.GetProperty("document_id").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await host.Client.DeleteAsync($"/v1/documents/{documentId}")).StatusCode);
        Assert.Null(await SearchAsync(host, "wildlife"));
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync($"/v1/documents/{documentId}")).StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Uploaded_files_are_saved_under_the_data_directory_and_ingested(bool otherIngestRoot)
    {
        // With Ingest:Roots naming some other folder, the upload folder is still allowed.
        await using var host = await ApiTestHost.StartAsync(otherIngestRoot ? new Dictionary<string, string?> { ["Ingest:Roots:0"] = RagTestHost.Samples } : null);
        using var form = new MultipartFormDataContent
        {
            { File("The quokka colony of Rottnest island is the largest."), "files", "quokkas.txt" },
            { new StringContent("wildlife, islands"), "tags" },
        };

        var upload = await host.Client.PostAsync("/v1/documents", form);

        Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        var saved = Assert.Single(Directory.GetFiles(Path.Combine(host.Directory, "uploads"), "*", SearchOption.AllDirectories));
        Assert.Equal("quokkas.txt", Path.GetFileName(saved));
        var jobId = (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString();
        Assert.Equal("succeeded", (await host.WaitForJobAsync(jobId!)).GetProperty("status").GetString());
        Assert.Equal(saved, (await SearchAsync(host, "islands"))?.GetProperty("source").GetString());
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("..")]
    [InlineData("sub/dir.txt")]
    [InlineData("sub\\dir.txt")]
    [InlineData("/etc/passwd")]
    public async Task File_names_that_could_leave_the_upload_folder_are_400_and_nothing_is_written(string name)
    {
        await using var host = await ApiTestHost.StartAsync();
        var content = File("text");
        content.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"files\"", FileName = $"\"{name}\"" };
        using var form = new MultipartFormDataContent { { File("fine"), "files", "fine.txt" }, content };

        var response = await host.Client.PostAsync("/v1/documents", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("is not allowed", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.False(Directory.Exists(Path.Combine(host.Directory, "uploads")));
    }

    private static ByteArrayContent File(string text)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        return content;
    }

    private static async Task<JsonElement?> SearchAsync(ApiTestHost host, string tag)
    {
        var response = await host.PostJsonAsync("/v1/search", new { query = Query, k = 5, filters = new { tags = new[] { tag } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var hits = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("hits").EnumerateArray().ToList();
        return hits.Count == 0 ? null : hits[0];
    }
}
