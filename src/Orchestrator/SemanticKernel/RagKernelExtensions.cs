using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Rag.Orchestrator.Composition;

namespace Rag.Orchestrator.Plugins;

/// <summary>Semantic Kernel wiring: the Rag services, the <c>rag</c> and <c>rag_ask</c> plugins, and the generator as a chat completion service.</summary>
public static class RagKernelExtensions
{
    /// <summary>
    /// Registers the Rag services (<see cref="RagServices.AddRag"/>) and the plugins on a kernel builder; the generator
    /// also becomes SK's <see cref="IChatCompletionService"/> when one is configured.
    /// </summary>
    public static IKernelBuilder AddRag(this IKernelBuilder builder, IConfiguration configuration)
    {
        builder.Services.AddRagPlugins(configuration);
        return builder;
    }

    /// <summary>
    /// Registers the Rag services, the plugins and a transient <see cref="Kernel"/> (SK's AddKernel) that carries them;
    /// the generator also becomes SK's <see cref="IChatCompletionService"/> when one is configured.
    /// </summary>
    public static IServiceCollection AddRagKernel(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRagPlugins(configuration);
        services.AddKernel();
        return services;
    }

    /// <summary>Adds the <c>rag</c> plugin (search, ask, ingest_text, get_document) and the <c>rag_ask</c> steps (retrieve, pack, generate).</summary>
    /// <remarks>The provider needs only <see cref="RagServices.AddRag"/>; plugin objects it does not hold are created.</remarks>
    public static KernelPluginCollection AddRag(this KernelPluginCollection plugins, IServiceProvider services)
    {
        var steps = ActivatorUtilities.GetServiceOrCreateInstance<RagAskFunctions>(services);
        plugins.Add(PluginOf(services.GetService<RagPlugin>() ?? ActivatorUtilities.CreateInstance<RagPlugin>(services, steps)));
        plugins.Add(steps.Plugin);
        return plugins;
    }

    private static void AddRagPlugins(this IServiceCollection services, IConfiguration configuration)
    {
        // A bare kernel builder has neither; hosts that already registered them keep theirs.
        services.AddLogging();
        services.TryAddSingleton(configuration);
        services.AddRag(configuration);
        services.AddSingleton<RagAskFunctions>();
        services.AddSingleton<RagPlugin>();
        // The kernel (SK's AddKernel and IKernelBuilder.Build) collects every registered KernelPlugin.
        services.AddSingleton(sp => PluginOf(sp.GetRequiredService<RagPlugin>()));
        services.AddSingleton(sp => sp.GetRequiredService<RagAskFunctions>().Plugin);
        if (services.Any(d => d.ServiceType == typeof(IChatClient)))
            services.AddSingleton(sp => sp.GetRequiredService<IChatClient>().AsChatCompletionService(sp));
    }

    private static KernelPlugin PluginOf(RagPlugin plugin) => KernelPluginFactory.CreateFromObject(plugin, RagPlugin.PluginName);
}
