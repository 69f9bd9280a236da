using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Rag.Tests;

namespace Rag.Orchestrator.Tests;

/// <summary>Bad input and bad configuration seen through the HTTP API: the answer names the field or setting and the rule.</summary>
public sealed class ApiBadInputTests
{
    [Fact]
    public async Task An_unknown_search_mode_lists_the_valid_ones()
    {
        await using var host = await ApiTestHost.StartAsync();

        var response = await host.PostJsonAsync("/v1/search", new { query = "apples", mode = "fuzzy" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("mode must be one of bm25, dense, hybrid.", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_vocabulary_that_does_not_belong_to_the_model_makes_readyz_not_ready_with_the_reason()
    {
        var settings = ApiTestHost.TinyGenerator();
        settings["Generator:VocabPath"] = TestData.Path("rwkv_vocab_v20230424.txt");
        await using var host = await ApiTestHost.StartAsync(settings);

        JsonElement body;
        int attempts = 0;
        // The model loads in the background; this bounds a load that never ends.
        do body = await (await host.Client.GetAsync("/readyz")).Content.ReadFromJsonAsync<JsonElement>();
        while (body.GetProperty("generator").GetString() == "loading" && ++attempts < 100 && await Delay());

        var ready = await host.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("failed", body.GetProperty("generator").GetString());
        Assert.Contains("has token ids up to 65529, but the model", body.GetProperty("reason").GetString());
        Assert.Contains("vocabulary of 1024", body.GetProperty("reason").GetString());
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(100);
        return true;
    }
}
