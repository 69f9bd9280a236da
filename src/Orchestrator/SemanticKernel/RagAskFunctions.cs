using System.ComponentModel;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Plugins;

/// <summary>
/// The ask pipeline as kernel functions — retrieve, pack, generate — so that function filters and
/// telemetry see each step. <see cref="AskAsync"/> composes them through the kernel; the logic stays in <see cref="AskService"/>.
/// </summary>
public sealed class RagAskFunctions
{
    public const string PluginName = "rag_ask";

    private readonly AskService _ask;

    public RagAskFunctions(AskService ask)
    {
        _ask = ask;
        Plugin = KernelPluginFactory.CreateFromObject(this, PluginName);
    }

    /// <summary>These functions as one plugin; <see cref="AskAsync"/> invokes its steps from here, so it works whether or not the plugin is registered.</summary>
    public KernelPlugin Plugin { get; }

    [KernelFunction("retrieve")]
    [Description("Step 1 of answering a question: finds the passages most relevant to it, best first. " +
        "Prefer rag.ask, which runs all steps; call this only to inspect or change the passages before packing.")]
    public Task<RetrievedPassages> RetrieveAsync(
        [Description("The question, in natural language; not empty, at most Ask:MaxQuestionChars characters (4000 by default).")] string question,
        [Description("How many passages to retrieve, 1 to Ask:MaxK (1024 by default); omit for Ask:DefaultK (64).")] int? k = null,
        CancellationToken cancellationToken = default) =>
        _ask.RetrieveAsync(new AskRequest(question, k), cancellationToken);

    [KernelFunction("pack")]
    [Description("Step 2 of answering a question: packs the retrieved passages, in rank order under the prompt token budget, " +
        "into a prompt behind numbered markers [1], [2]… that the answer cites.")]
    public AskContext Pack(
        [Description("The question the passages were retrieved for.")] string question,
        [Description("The result of rag_ask.retrieve.")] RetrievedPassages passages) =>
        _ask.Pack(question, passages);

    [KernelFunction("generate")]
    [Description("Step 3 of answering a question: generates the answer to a packed prompt with the configured model. " +
        "Fails when no generator model is configured.")]
    public async Task<string> GenerateAsync(
        [Description("The Prompt of the result of rag_ask.pack (system instructions, then the numbered passages and the question).")] IList<ChatMessage> prompt,
        CancellationToken cancellationToken = default) =>
        (await _ask.GenerateAsync(prompt, cancellationToken: cancellationToken)).Text;

    /// <summary>
    /// Retrieve, pack and (when a generator is configured) generate, each invoked through <paramref name="kernel"/>.
    /// Without a generator it stops after packing and returns the notice with the passages: it never invents an answer.
    /// </summary>
    public async Task<RagAnswer> AskAsync(Kernel kernel, string question, int? k = null, CancellationToken cancellationToken = default)
    {
        var retrieveArguments = new KernelArguments { ["question"] = question };
        if (k is not null) retrieveArguments["k"] = k;
        var retrieved = await InvokeAsync<RetrievedPassages>(kernel, "retrieve", retrieveArguments, cancellationToken);
        var context = await InvokeAsync<AskContext>(kernel, "pack", new() { ["question"] = question, ["passages"] = retrieved }, cancellationToken);
        if (AskService.FoundNothing(context)) return RagAnswer.Answered(AskService.NothingFoundAnswer, context);
        if (!_ask.HasGenerator) return RagAnswer.WithoutModel(context);
        var answer = await InvokeAsync<string>(kernel, "generate", new() { ["prompt"] = context.Prompt }, cancellationToken);
        return RagAnswer.Answered(answer, context);
    }

    private async Task<T> InvokeAsync<T>(Kernel kernel, string step, KernelArguments arguments, CancellationToken cancellationToken) =>
        (await kernel.InvokeAsync(Plugin[step], arguments, cancellationToken)).GetValue<T>()
        ?? throw new InvalidOperationException($"The kernel function {PluginName}.{step} returned no value (a function filter may have cleared it).");
}
