using System.Text.Json;

namespace Rag.Orchestrator.Tests.OpenAi;

/// <summary>
/// The real <c>openai</c> npm client (tests/openai-node, version pinned by its package-lock.json) against a listening
/// server with the tiny generator and API keys: it must list the generator and show the server's own message for a
/// 400, a 401 and a 404 (unknown model). Skips when node or npm is missing or the package cannot be installed.
/// </summary>
public class OpenAiNodeClientTests
{
    private const string Key = "node-client-key-0123456789";
    private static readonly string Folder = Path.GetFullPath(Path.Combine(TestData.Root, "..", "openai-node"));

    [SkippableFact]
    public async Task The_openai_npm_client_lists_the_generator_streams_and_shows_the_server_messages()
    {
        var node = ExternalTools.Find("node", "nodejs");
        Skip.If(node is null, "node is not on PATH (Debian: apt-get install nodejs npm); the openai npm client check needs it.");
        await EnsureClientInstalledAsync();

        var settings = ApiTestHost.TinyGenerator(maxTokens: 8);
        settings["Api:Keys:0:Key"] = Key;
        settings["Api:Keys:0:Name"] = "node";
        await using var host = await ApiTestHost.StartAsync(settings, ingestSamples: true, listen: true);
        var (exit, output, error) = await ExternalTools.RunAsync(node!, ["check.mjs"], Folder, TimeSpan.FromMinutes(2),
            new Dictionary<string, string> { ["RAG_URL"] = host.Address!.ToString(), ["RAG_KEY"] = Key });

        Assert.True(exit == 0, $"node check.mjs exited with {exit}: {error}");
        var seen = JsonDocument.Parse(output).RootElement;
        var model = Path.GetFileNameWithoutExtension(TinyRwkv.ModelPath);
        Assert.Equal([model], seen.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(model, seen.GetProperty("retrieved").GetProperty("id").GetString());
        Assert.Equal("model", seen.GetProperty("retrieved").GetProperty("object").GetString());
        Assert.Equal(model, seen.GetProperty("completion").GetProperty("model").GetString());
        Assert.False(string.IsNullOrEmpty(seen.GetProperty("completion").GetProperty("content").GetString()));
        Assert.True(seen.GetProperty("completion").GetProperty("citations").GetInt32() > 0);
        Assert.Equal(seen.GetProperty("completion").GetProperty("content").GetString(), seen.GetProperty("stream").GetProperty("text").GetString());

        AssertFailure(seen.GetProperty("badRequest"), 400, "BadRequestError", "max_tokens must be between 1 and 8 (Generator:MaxTokens); got 100000", "max_tokens");
        AssertFailure(seen.GetProperty("unknownModelChat"), 404, "NotFoundError", $"The model 'no-such-model' does not exist; this server serves '{model}'", "model");
        AssertFailure(seen.GetProperty("unknownModel"), 404, "NotFoundError", "The model 'no-such-model' does not exist", "model");
        Assert.Equal("model_not_found", seen.GetProperty("unknownModel").GetProperty("code").GetString());
        AssertFailure(seen.GetProperty("unauthorized"), 401, "AuthenticationError", "Send an API key as 'Authorization: Bearer <key>'", null);
    }

    private static void AssertFailure(JsonElement failure, int status, string errorClass, string message, string? param)
    {
        Assert.True(failure.GetProperty("failed").GetBoolean());
        Assert.Equal(status, failure.GetProperty("status").GetInt32());
        Assert.Equal(errorClass, failure.GetProperty("name").GetString());
        // The client prefixes the status: "400 max_tokens must be ...", where a problem-details body gave "400 status code (no body)".
        Assert.Contains(message, failure.GetProperty("message").GetString());
        Assert.Equal(param, failure.GetProperty("param").GetString());
    }

    /// <summary>Installs the pinned client into tests/openai-node/node_modules once (npm ci, from the lock file).</summary>
    private static async Task EnsureClientInstalledAsync()
    {
        if (File.Exists(Path.Combine(Folder, "node_modules", "openai", "package.json"))) return;
        var npm = ExternalTools.Find("npm");
        Skip.If(npm is null, "npm is not on PATH (Debian: apt-get install npm); it installs the openai client for this check.");
        var (exit, _, error) = await ExternalTools.RunAsync(npm!, ["ci", "--no-audit", "--no-fund"], Folder, TimeSpan.FromMinutes(3));
        Skip.If(exit != 0, $"npm ci could not install the openai client (registry unreachable?): {error.Trim().Split('\n').LastOrDefault()}");
    }
}
