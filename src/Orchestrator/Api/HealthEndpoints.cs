using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Api;

/// <summary>GET /healthz (the process answers) and GET /readyz (the store answers and the generator, if configured, is loaded).</summary>
public static class HealthEndpoints
{
    /// <param name="Reason">Why the generator is not ready (it failed to load), or null.</param>
    public sealed record Readiness(string Status, string Store, string Generator, string? Reason = null);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" })).WithTags("Health").AllowAnonymous();
        routes.MapGet("/readyz", ReadyAsync).WithTags("Health").AllowAnonymous()
            .Produces<Readiness>().Produces<Readiness>(StatusCodes.Status503ServiceUnavailable);
        return routes;
    }

    private static async Task<IResult> ReadyAsync(IDocumentStore store, GeneratorWarmup generator, ILogger<GeneratorWarmup> logger, CancellationToken cancellationToken)
    {
        bool storeOk;
        try
        {
            storeOk = await store.PingAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Readiness: the document store did not answer");
            storeOk = false;
        }

        var generatorState = !generator.IsConfigured ? "not configured"
            : generator.IsReady ? "ready"
            : generator.Failure is null ? "loading" : "failed";
        bool ready = storeOk && generator.IsReady;
        var body = new Readiness(ready ? "ready" : "not ready", storeOk ? "ok" : "unreachable", generatorState, generator.Failure);
        return TypedResults.Json(body, statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }
}
