using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rag.Generator.Chat;
using Rag.Generator.Generation;
using Rag.Generator.Hub;
using Rag.Generator.Model;
using Rag.Generator.Serving;
using Rag.Ingest;
using Rag.Ingest.Jobs;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Answering.Conversations;
using Rag.Orchestrator.Uploads;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Embedded;
using Rag.Retrieval.Embeddings;
using Rag.Retrieval.Qdrant;

namespace Rag.Orchestrator.Composition;

/// <summary>The composition root: which store, encoder and generator the settings ask for.</summary>
public static class RagServices
{
    /// <summary>A service provider for one CLI command, configured from appsettings, --config and the environment.</summary>
    public static ServiceProvider Build(string? configFile) => Build(new ConfigurationBuilder().AddRagSources(configFile).Build());

    public static ServiceProvider Build(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging
            .AddConfiguration(configuration.GetSection("Logging"))
            .AddSimpleConsole(console => console.SingleLine = true)
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddFilter("Rag", LogLevel.Warning));
        services.AddRag(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    /// <summary>
    /// Store (Store:Provider embedded | qdrant), dense encoder (when Embeddings:ModelDirectory is set),
    /// generator as <see cref="IChatClient"/> (when Generator:ModelPath is set), ingestion and the ask pipeline.
    /// </summary>
    public static IServiceCollection AddRag(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AskOptions>().Bind(configuration.GetSection(AskOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AskOptions>>(
            new AskOptionsValidator(configuration.GetSection(GeneratorOptions.SectionName).Get<GeneratorOptions>() ?? new GeneratorOptions()));
        var provider = configuration["Store:Provider"] ?? "embedded";
        _ = provider.ToLowerInvariant() switch
        {
            "embedded" => services.AddEmbeddedDocumentStore(configuration),
            "qdrant" => services.AddQdrantDocumentStore(configuration),
            _ => throw new RagInputException($"Store:Provider '{provider}' is not supported; use 'embedded' or 'qdrant'."),
        };
        if (!string.IsNullOrWhiteSpace(configuration[$"{BertEmbeddingOptions.SectionName}:ModelDirectory"]))
            services.AddBertEmbeddingGenerator(configuration);
        services.AddRagIngest();
        services.PostConfigure<IngestOptions>(options => AllowUploads(options, configuration));
        services.AddIngestJobQueue(configuration);
        services.AddOptions<GeneratorOptions>().Bind(configuration.GetSection(GeneratorOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GeneratorOptions>, GeneratorOptionsValidator>();
        if (!string.IsNullOrWhiteSpace(configuration[$"{GeneratorOptions.SectionName}:ModelPath"]))
        {
            services.AddSingleton<ILanguageModel>(sp => GeneratorLoader.LoadModel(GeneratorSettings(sp)));
            // One scheduler for the loaded model, shared by the API, the CLI and the SK chat service; created after the
            // model, it is disposed before it (its step thread has stopped by then).
            services.AddSingleton(sp =>
            {
                var model = sp.GetRequiredService<ILanguageModel>();
                var options = GeneratorSettings(sp);
                return new GenerationScheduler(model, GeneratorLoader.LoadVocabulary(options, model.VocabSize), options);
            });
            // The model loads at first use (or through LoadGenerator), not when the services are built.
            services.AddSingleton<IChatClient>(sp => new LazyChatClient(
                () => new RwkvChatClient(sp.GetRequiredService<GenerationScheduler>(), sp.GetService<ILogger<RwkvChatClient>>()),
                new ChatClientMetadata("rwkv", providerUri: null,
                    defaultModelId: Path.GetFileNameWithoutExtension(configuration[$"{GeneratorOptions.SectionName}:ModelPath"]))));
        }
        services.AddSingleton(sp => new UploadFolder(UploadsDirectory(configuration), sp.GetRequiredService<IDocumentStore>()));
        services.AddSingleton(sp => new PassageRetriever(sp.GetRequiredService<IDocumentStore>(), sp.GetService<IEmbeddingGenerator<string, Embedding<float>>>()));
        services.AddSingleton(sp => new AskService(sp.GetRequiredService<PassageRetriever>(), sp.GetRequiredService<IOptions<AskOptions>>(),
            sp.GetRequiredService<ILogger<AskService>>(), sp.GetService<IChatClient>()));
        services.AddSingleton(sp => new ConversationMemory(sp.GetRequiredService<IOptions<AskOptions>>().Value.ConversationMemoryBytes));
        services.AddSingleton<ConversationTurns>();
        return services;
    }

    /// <summary>
    /// Loads the configured generator (model and vocabulary) now, for hosts that want it up front: the API's warm-up,
    /// the CLI's ask. Elsewhere (a kernel, a search-only host) it loads at first use. Nothing happens without a generator.
    /// </summary>
    /// <summary>The Generator settings; broken ones are bad input (one line naming each), raised at first use of the model.</summary>
    private static GeneratorOptions GeneratorSettings(IServiceProvider services)
    {
        try
        {
            return services.GetRequiredService<IOptions<GeneratorOptions>>().Value;
        }
        catch (OptionsValidationException e)
        {
            throw new RagInputException(string.Join(" ", e.Failures));
        }
    }

    public static void LoadGenerator(this IServiceProvider services)
    {
        if (services.GetService<IChatClient>() is LazyChatClient generator) generator.Load();
    }

    /// <summary>Where the API saves uploaded files for the workers to ingest: &lt;Store:DataDirectory&gt;/uploads.</summary>
    public static string UploadsDirectory(IConfiguration configuration) =>
        Path.GetFullPath(Path.Combine(configuration["Store:DataDirectory"] is { Length: > 0 } directory ? directory : "data", "uploads"));

    /// <summary>
    /// Ingest:Roots restricts what ingestion reads, but API uploads must still be ingested, so the upload folder is
    /// always one of the roots. It is created here because roots must exist (checked at startup, after this runs).
    /// </summary>
    private static void AllowUploads(IngestOptions options, IConfiguration configuration)
    {
        if (options.Roots.Count == 0)
            return;
        string uploads = UploadsDirectory(configuration);
        Directory.CreateDirectory(uploads);
        options.Roots = [.. options.Roots, uploads];
    }
}
