using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Rag.Orchestrator.Plugins;

namespace Rag.Orchestrator.Tests;

public class KernelRegistrationTests
{
    private static readonly string[] RagFunctions = ["ask", "get_document", "ingest_text", "search"];
    private static readonly string[] AskSteps = ["generate", "pack", "retrieve"];

    [Fact]
    public async Task AddRagKernel_gives_a_kernel_with_both_plugins_and_no_chat_service_without_a_model()
    {
        await using var host = new KernelTestHost();

        AssertRagPlugins(host.Kernel.Plugins);
        Assert.Null(host.Kernel.Services.GetService<IChatCompletionService>());
    }

    [Fact]
    public async Task Kernel_builder_AddRag_builds_a_kernel_that_searches()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"rag-kernel-builder-{Guid.NewGuid():N}");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Store:DataDirectory"] = directory }).Build();
        var kernel = Kernel.CreateBuilder().AddRag(configuration).Build();
        try
        {
            AssertRagPlugins(kernel.Plugins);
            await kernel.InvokeAsync(RagPlugin.PluginName, "ingest_text", new() { ["text"] = "Quokkas live on Rottnest Island.", ["source"] = "notes/quokka" });
            var hits = await kernel.InvokeAsync<IReadOnlyList<RagPassage>>(RagPlugin.PluginName, "search", new() { ["query"] = "quokka island" });
            Assert.Equal("notes/quokka", Assert.Single(hits!).Source);
        }
        finally
        {
            await ((IAsyncDisposable)kernel.Services).DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Plugin_collection_AddRag_works_over_the_plain_rag_services()
    {
        await using var host = new RagTestHost();
        await host.IngestSamplesAsync();
        var kernel = new Kernel(host.Services);

        kernel.Plugins.AddRag(host.Services);

        AssertRagPlugins(kernel.Plugins);
        var hits = await kernel.InvokeAsync<IReadOnlyList<RagPassage>>(RagPlugin.PluginName, "search", new() { ["query"] = "reciprocal rank fusion constant k" });
        Assert.Equal("reciprocal-rank-fusion.html", Path.GetFileName(hits![0].Source));
    }

    [Fact]
    public async Task Every_planner_facing_function_and_parameter_is_described()
    {
        await using var host = new KernelTestHost();

        var functions = host.Kernel.Plugins.GetFunctionsMetadata();

        Assert.All(functions, f => Assert.False(string.IsNullOrWhiteSpace(f.Description), $"{f.PluginName}.{f.Name} has no description"));
        Assert.All(functions.SelectMany(f => f.Parameters.Select(p => (Function: f.Name, Parameter: p))),
            x => Assert.False(string.IsNullOrWhiteSpace(x.Parameter.Description), $"{x.Function}({x.Parameter.Name}) has no description"));
        Assert.Equal(["query", "k", "tags"], functions.Single(f => f.Name == "search").Parameters.Select(p => p.Name));
    }

    private static void AssertRagPlugins(KernelPluginCollection plugins)
    {
        Assert.Equal(RagFunctions, plugins[RagPlugin.PluginName].Select(f => f.Name).Order());
        Assert.Equal(AskSteps, plugins[RagAskFunctions.PluginName].Select(f => f.Name).Order());
    }
}
