using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Cli;
using Rag.Orchestrator.Plugins;

namespace Rag.Orchestrator.Tests;

/// <summary>
/// The rules live once in the core: the CLI, the HTTP API and the Semantic Kernel plugin give the same bad input the
/// same message. The CLI's stderr is captured, so these tests do not run alongside others.
/// </summary>
[Collection(nameof(FrontEndRulesTests))]
[CollectionDefinition(nameof(FrontEndRulesTests), DisableParallelization = true)]
public sealed class FrontEndRulesTests : IAsyncLifetime
{
    private const int MaxTokens = 16;
    private static readonly string LongQuery = new('q', 4001);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"rag-rules-test-{Guid.NewGuid():N}");
    private ApiTestHost _api = null!;
    private ServiceProvider _kernelServices = null!;
    private Kernel _kernel = null!;
    private string _cliConfig = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var settings = ApiTestHost.TinyGenerator(MaxTokens);
        _api = await ApiTestHost.StartAsync(settings);
        _kernelServices = new ServiceCollection()
            .AddRagKernel(new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["Store:DataDirectory"] = Path.Combine(_directory, "kernel") }).Build())
            .BuildServiceProvider();
        _kernel = _kernelServices.GetRequiredService<Kernel>();
        _cliConfig = Path.Combine(_directory, "cli.json");
        await File.WriteAllTextAsync(_cliConfig, JsonSerializer.Serialize(new
        {
            Store = new { DataDirectory = Path.Combine(_directory, "cli") },
            Generator = new { ModelPath = TinyRwkv.ModelPath, VocabPath = TinyRwkv.VocabPath, MaxTokens },
            Logging = new { LogLevel = new { Default = "Warning" } },
        }));
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _kernelServices.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task An_empty_question_gets_the_same_message_everywhere()
    {
        const string expected = "The question is empty.";
        Assert.Equal(expected, await Cli("ask", " "));
        Assert.Equal(expected, await Api("/v1/ask", new { question = " " }));
        Assert.Equal(expected, await Kernel("ask", new() { ["question"] = " " }));
    }

    [Fact]
    public async Task A_k_out_of_range_gets_the_same_message_everywhere()
    {
        const string expected = "k must be between 1 and 1024 (Ask:MaxK); got 0.";
        Assert.Equal(expected, await Cli("search", "wal", "--k", "0"));
        Assert.Equal(expected, await Api("/v1/search", new { query = "wal", k = 0 }));
        Assert.Equal(expected, await Kernel("search", new() { ["query"] = "wal", ["k"] = 0 }));
        Assert.Equal(expected, await Cli("ask", "wal", "--k", "0"));
        Assert.Equal(expected, await Api("/v1/ask", new { question = "wal", k = 0 }));
        Assert.Equal(expected, await Kernel("ask", new() { ["question"] = "wal", ["k"] = 0 }));
    }

    [Fact]
    public async Task A_too_long_query_gets_the_same_message_everywhere()
    {
        const string expected = "The query has 4001 characters; the limit is 4000 (Ask:MaxQuestionChars).";
        Assert.Equal(expected, await Cli("search", LongQuery));
        Assert.Equal(expected, await Api("/v1/search", new { query = LongQuery }));
        Assert.Equal(expected, await Kernel("search", new() { ["query"] = LongQuery }));
    }

    [Fact]
    public async Task Max_tokens_above_Generator_MaxTokens_is_refused_by_the_cli_as_by_the_api()
    {
        const string rule = "must be between 1 and 16 (Generator:MaxTokens); got 100000.";
        Assert.Equal($"--max-tokens {rule}", await Cli("ask", "What is WAL?", "--max-tokens", "100000"));
        Assert.Equal($"max_tokens {rule}", await Api("/v1/chat/completions",
            new { messages = new[] { new { role = "user", content = "What is WAL?" } }, max_tokens = 100000 }));
    }

    [Fact]
    public async Task A_document_with_a_NUL_gets_the_pipelines_message_from_the_api_and_the_kernel()
    {
        const string expected = "Document 'notes/nul' contains NUL characters.";
        Assert.Equal($"documents[0]: {expected}", await Api("/v1/documents", new { documents = new[] { new { source = "notes/nul", text = "one\0two" } } }));
        Assert.Equal(expected, await Kernel("ingest_text", new() { ["source"] = "notes/nul", ["text"] = "one\0two" }));
    }

    /// <summary>The one line the CLI writes for bad input (exit code 2), without its "error: " prefix.</summary>
    private async Task<string> Cli(params string[] args)
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        int exit;
        try
        {
            exit = await RagCli.Build().Parse([.. args, "--config", _cliConfig]).InvokeAsync();
        }
        finally
        {
            Console.SetError(previous);
        }
        Assert.Equal(CliErrors.BadInput, exit);
        return Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            line => line.StartsWith("error: ", StringComparison.Ordinal))["error: ".Length..];
    }

    /// <summary>The message of the API's 400: the problem's detail, or OpenAI's error.message on the OpenAI-compatible routes.</summary>
    private async Task<string> Api(string path, object body)
    {
        var response = await _api.PostJsonAsync(path, body);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (json.TryGetProperty("detail", out var detail) ? detail : json.GetProperty("error").GetProperty("message")).GetString()!;
    }

    /// <summary>The message of the exception a rag plugin function throws.</summary>
    private async Task<string> Kernel(string function, KernelArguments arguments)
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => _kernel.InvokeAsync(RagPlugin.PluginName, function, arguments));
        Assert.True(e is RagInputException or ArgumentException, e.ToString());
        return e.Message;
    }
}
