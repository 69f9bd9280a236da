using Microsoft.Extensions.Configuration;
using Microsoft.SemanticKernel;
using Rag.Orchestrator.Plugins;

// An agent builder's console app: a kernel with the Rag plugin, settings from the environment and the command line,
// e.g. --Store:DataDirectory=/tmp/kb --Generator:ModelPath=model.pth --Generator:VocabPath=vocab.txt
var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
var kernel = Kernel.CreateBuilder().AddRag(configuration).Build();

var ingested = await kernel.InvokeAsync<RagIngestResult>(RagPlugin.PluginName, "ingest_text", new()
{
    ["text"] = "The Skerryvore lighthouse keeper records the barometric pressure every four hours in a blue ledger.",
    ["source"] = "notes/skerryvore",
    ["tags"] = "lighthouse",
});
Console.WriteLine($"ingest_text: {ingested!.Outcome} {ingested.Source} ({ingested.ChunkCount} chunk(s))");

var passages = await kernel.InvokeAsync<IReadOnlyList<RagPassage>>(RagPlugin.PluginName, "search", new()
{
    ["query"] = "How often is the pressure recorded?",
    ["k"] = 3,
    ["tags"] = new[] { "lighthouse", "harbour" },
});
foreach (var passage in passages!) Console.WriteLine($"search: [{passage.Number}] {passage.Source} {passage.Score:F3}");

var answer = await kernel.InvokeAsync<RagAnswer>(RagPlugin.PluginName, "ask", new()
{
    ["question"] = "How often does the Skerryvore keeper record the pressure?",
    ["k"] = 2,
});
Console.WriteLine($"ask: {answer!.Answer ?? answer.Notice}");
Console.WriteLine($"citations: {string.Join(", ", answer.Citations.Select(c => $"[{c.Number}] {c.Source}"))}");

// The run checks itself, so that CI can run it as a test.
bool generatorConfigured = !string.IsNullOrWhiteSpace(configuration["Generator:ModelPath"]);
if (passages is not [{ Source: "notes/skerryvore" }, ..] || (generatorConfigured && string.IsNullOrWhiteSpace(answer.Answer)))
{
    Console.Error.WriteLine("The sample did not find the ingested note or got no answer.");
    return 1;
}
return 0;
