using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Rag.Orchestrator.Plugins;

namespace Rag.Orchestrator.Tests;

/// <summary>The tiny RWKV-7 fixture as the kernel's generator: greedy and a few tokens, so runs are deterministic and fast.</summary>
public class KernelGeneratorTests
{
    [Fact]
    public async Task The_generator_is_the_kernels_chat_completion_service()
    {
        await using var host = new KernelTestHost(withGenerator: true);
        var chat = host.Kernel.GetRequiredService<IChatCompletionService>();
        var history = new ChatHistory("Be brief.");
        history.AddUserMessage("Name a colour.");

        var reply = await chat.GetChatMessageContentAsync(history, kernel: host.Kernel);

        Assert.Equal(AuthorRole.Assistant, reply.Role);
        Assert.False(string.IsNullOrWhiteSpace(reply.Content));
    }

    [Fact]
    public async Task The_generator_loads_at_first_use_not_when_the_kernel_is_built()
    {
        // A generator that cannot load: building the kernel and searching must not try; asking must.
        await using var host = new KernelTestHost(withGenerator: true, new Dictionary<string, string?> { ["Generator:Dtype"] = "fp8" });
        await host.IngestSamplesAsync();
        _ = host.Kernel.GetRequiredService<IChatCompletionService>();

        var passages = await host.Kernel.InvokeAsync<IReadOnlyList<RagPassage>>(RagPlugin.PluginName, "search", new() { ["query"] = "sourdough", ["k"] = 1 });
        var failure = await Assert.ThrowsAsync<Rag.Orchestrator.Answering.RagInputException>(() =>
            host.Kernel.InvokeAsync(RagPlugin.PluginName, "ask", new() { ["question"] = "What hydration for sourdough?", ["k"] = 1 }));

        Assert.Single(passages!);
        Assert.Contains("Generator:Dtype 'fp8'", failure.Message);
    }

    [Fact]
    public async Task Ask_through_the_kernel_functions_returns_an_answer_and_its_citations()
    {
        await using var host = new KernelTestHost(withGenerator: true);
        await host.IngestSamplesAsync();

        var answer = await host.Kernel.InvokeAsync<RagAnswer>(RagPlugin.PluginName, "ask",
            new() { ["question"] = "What hydration should a beginner use for sourdough dough?", ["k"] = 2 });

        Assert.NotNull(answer);
        Assert.Null(answer.Notice);
        Assert.False(string.IsNullOrWhiteSpace(answer.Answer));
        Assert.InRange(answer.Citations.Count, 1, 2);
        Assert.Equal(Enumerable.Range(1, answer.Citations.Count), answer.Citations.Select(c => c.Number));
        Assert.Contains(answer.Citations, c => c.Source.EndsWith("sourdough-bread.txt", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true, new[] { "rag.ask", "rag_ask.retrieve", "rag_ask.pack", "rag_ask.generate" })]
    [InlineData(false, new[] { "rag.ask", "rag_ask.retrieve", "rag_ask.pack" })]
    public async Task Each_ask_step_passes_through_the_kernels_function_filters(bool withGenerator, string[] expected)
    {
        await using var host = new KernelTestHost(withGenerator);
        await host.IngestSamplesAsync();
        var filter = new RecordingFilter();
        host.Kernel.FunctionInvocationFilters.Add(filter);

        await host.Kernel.InvokeAsync(RagPlugin.PluginName, "ask", new() { ["question"] = "What is write-ahead logging?", ["k"] = 1 });

        Assert.Equal(expected, filter.Started);
        Assert.Equal(expected.Skip(1).Append("rag.ask"), filter.Finished);  // the steps complete inside ask
    }

    /// <summary>Records functions as the kernel invokes them (start) and as they complete with a result (finish).</summary>
    private sealed class RecordingFilter : IFunctionInvocationFilter
    {
        public List<string> Started { get; } = [];
        public List<string> Finished { get; } = [];

        public async Task OnFunctionInvocationAsync(FunctionInvocationContext context, Func<FunctionInvocationContext, Task> next)
        {
            var name = $"{context.Function.PluginName}.{context.Function.Name}";
            Started.Add(name);
            await next(context);
            Assert.NotNull(context.Result.GetValue<object>());
            Finished.Add(name);
        }
    }
}
