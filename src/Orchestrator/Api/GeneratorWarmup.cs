using Microsoft.Extensions.Hosting;
using Rag.Generator.Checkpoints;
using Rag.Generator.Model;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Composition;

namespace Rag.Orchestrator.Api;

/// <summary>
/// Loads the generator model in the background when the server starts, so the port opens at once and
/// /readyz says when generation can begin. Without Generator:ModelPath there is nothing to load.
/// </summary>
public sealed class GeneratorWarmup(IServiceProvider services, ILogger<GeneratorWarmup> logger) : BackgroundService
{
    private volatile string? _failure;
    private volatile bool _loaded;

    /// <summary>Whether Generator:ModelPath is set (the composition root then registers the model).</summary>
    public bool IsConfigured { get; } = services.GetService<IServiceProviderIsService>()?.IsService(typeof(ILanguageModel)) == true;

    public bool IsReady => !IsConfigured || _loaded;

    /// <summary>Why loading failed (names the file or setting), or null.</summary>
    public string? Failure => _failure;

    /// <summary>Null when generation can run; otherwise why not, for a 503.</summary>
    public string? Unavailable => IsReady ? null
        : _failure is { } failure ? $"The generator model failed to load: {failure}"
        : "The generator model is still loading; retry shortly (GET /readyz turns 200 when it is ready).";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => !IsConfigured ? Task.CompletedTask : Task.Run(() =>
    {
        try
        {
            // The model and its vocabulary, checked against each other; loaded now, not at the first request.
            services.LoadGenerator();
            _loaded = true;
            logger.LogInformation("Generator model loaded");
        }
        catch (Exception e) when (e is RagInputException or CheckpointFormatException)
        {
            _failure = e.Message;
            logger.LogError("Generator model failed to load: {Reason}", e.Message);
        }
        catch (Exception e)
        {
            _failure = e.Message;
            logger.LogError(e, "Generator model failed to load");
        }
    }, stoppingToken);
}
