using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Rag.Orchestrator.Tests.ChatPage;

/// <summary>
/// The chat page in a real browser: Playwright driving the system's Chromium (RAG_CHROMIUM, else chromium,
/// chromium-browser or google-chrome on PATH; the test skips when none is found) against a listening server with the
/// tiny generator, the samples and API keys on.
/// </summary>
public class ChatPageBrowserTests
{
    private const string Key = "browser-key-0123456789";
    private const string Question = "What hydration should a beginner use for sourdough dough?";

    [SkippableFact]
    public async Task Without_keys_or_a_generator_the_page_hides_the_key_field_and_says_no_model_is_loaded()
    {
        var chromium = Chromium();
        await using var host = await ApiTestHost.StartAsync(listen: true);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(host.Address!.ToString());

        await Assertions.Expect(page.Locator("#model")).ToHaveTextAsync("no generator model loaded (see /readyz)");
        await Assertions.Expect(page.Locator("#api-key")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#passage")).ToBeHiddenAsync();
    }

    [SkippableFact]
    public async Task Asking_on_the_page_streams_the_answer_opens_a_citation_filters_by_tag_and_sends_the_conversation()
    {
        var chromium = Chromium();
        var settings = ApiTestHost.TinyGenerator(maxTokens: 16);
        settings["Api:Keys:0:Key"] = Key;
        settings["Api:Keys:0:Name"] = "browser";
        settings["Api:Keys:0:CanWrite"] = "true";
        await using var host = await ApiTestHost.StartAsync(settings, ingestSamples: true, listen: true);
        host.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        await UploadTaggedAsync(host);
        await WaitUntilReadyAsync(host);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(host.Address!.ToString());

        // Keys are on: the page asks for one and only then finds the model.
        await Assertions.Expect(page.Locator("#api-key")).ToBeVisibleAsync();
        await page.FillAsync("#api-key", Key);
        await page.PressAsync("#api-key", "Tab");
        await Assertions.Expect(page.Locator("#model")).ToHaveTextAsync($"model: {Path.GetFileNameWithoutExtension(TinyRwkv.ModelPath)}");

        // Streamed: the answer element changes once per piece as the events arrive, not once at the end.
        await page.EvaluateAsync("""
            () => { window.answerRenders = 0;
                    new MutationObserver(records => window.answerRenders += records.filter(r => r.target.classList?.contains('answer')).length)
                      .observe(document.getElementById('conversation'), { childList: true, subtree: true }); }
            """);
        await AskAsync(page, Question);
        var answer = page.Locator("li.assistant .answer").First;
        var expected = await AnswerAsync(host, [new { role = "user", content = Question }], tags: null);
        await Assertions.Expect(answer).ToHaveTextAsync(expected.Text);
        Assert.True(await page.EvaluateAsync<int>("() => window.answerRenders") > 2, "the answer appeared all at once, not streamed");

        // Numbered citations open the cited passage (its whole text) and its source.
        var sources = page.Locator("li.assistant").First.Locator(".sources .cite");
        Assert.Equal(expected.Citations.Count, await sources.CountAsync());
        var cited = expected.Citations[0];
        await Assertions.Expect(sources.First).ToHaveTextAsync($"[1] {cited.GetProperty("source").GetString()}#{cited.GetProperty("ordinal").GetInt32()}");
        await sources.First.ClickAsync();
        await Assertions.Expect(page.Locator("#passage")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#passage-source")).ToHaveTextAsync(cited.GetProperty("source").GetString()!);
        var chunk = await host.Client.GetFromJsonAsync<JsonElement>(
            $"/v1/documents/{cited.GetProperty("document_id").GetString()}/chunks/{cited.GetProperty("ordinal").GetInt32()}");
        await Assertions.Expect(page.Locator("#passage-text")).ToHaveTextAsync(chunk.GetProperty("text").GetString()!);

        // A follow-up, filtered by a tag: the whole conversation goes to the API, and only the tagged document is cited.
        await page.FillAsync("#tags", "kitchen-notes");
        var request = await page.RunAndWaitForRequestAsync(() => AskAsync(page, "And how warm should it proof?"),
            r => r.Url.EndsWith("/v1/chat/completions", StringComparison.Ordinal));
        var sent = JsonDocument.Parse(request.PostData!).RootElement;
        Assert.Equal(["user", "assistant", "user"], sent.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(expected.Text, sent.GetProperty("messages")[1].GetProperty("content").GetString());
        Assert.Equal(["kitchen-notes"], sent.GetProperty("filters").GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        var followUp = page.Locator("li.assistant").Nth(1);
        await Assertions.Expect(followUp.Locator(".sources")).ToBeVisibleAsync();
        Assert.All(await followUp.Locator(".sources .cite").AllTextContentsAsync(), text => Assert.Contains("kitchen/proofing.txt", text));
    }

    private static string Chromium()
    {
        var chromium = Environment.GetEnvironmentVariable("RAG_CHROMIUM") is { Length: > 0 } configured ? configured
            : ExternalTools.Find("chromium", "chromium-browser", "google-chrome");
        Skip.If(chromium is null, "No Chromium found (set RAG_CHROMIUM, or Debian: apt-get install chromium); the chat page's browser tests need one.");
        return chromium!;
    }

    private static async Task AskAsync(IPage page, string question)
    {
        await page.FillAsync("#question", question);
        await page.ClickAsync("#send");
    }

    /// <summary>The API's own (non-streamed, greedy) answer to the same conversation: what the page must show.</summary>
    private static async Task<(string Text, IReadOnlyList<JsonElement> Citations)> AnswerAsync(ApiTestHost host, object[] messages, string[]? tags)
    {
        var response = await host.PostJsonAsync("/v1/chat/completions", new { messages, filters = tags is null ? null : new { tags } });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!,
            body.GetProperty("citations").EnumerateArray().ToList());
    }

    private static async Task UploadTaggedAsync(ApiTestHost host)
    {
        var upload = await host.PostJsonAsync("/v1/documents", new
        {
            documents = new[] { new { source = "kitchen/proofing.txt", text = "Proof sourdough dough at 24 to 26 degrees until it has grown by half." } },
            tags = new[] { "kitchen-notes" },
        });
        var job = await host.WaitForJobAsync((await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
    }

    private static async Task WaitUntilReadyAsync(ApiTestHost host)
    {
        // The tiny model loads in well under a second; this bounds a broken load.
        for (int attempt = 0; attempt < 100 && !(await host.Client.GetAsync("/readyz")).IsSuccessStatusCode; attempt++)
            await Task.Delay(100);
    }
}
