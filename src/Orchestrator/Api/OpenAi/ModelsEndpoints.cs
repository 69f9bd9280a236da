using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Rag.Generator.Generation;

namespace Rag.Orchestrator.Api.OpenAi;

/// <summary>OpenAI's model object; <see cref="Created"/> is the checkpoint file's modification time (Unix seconds).</summary>
public sealed record OpenAiModel(string Id, long Created, string OwnedBy)
{
    public string Object => "model";
}

public sealed record OpenAiModelList(IReadOnlyList<OpenAiModel> Data)
{
    public string Object => "list";
}

/// <summary>
/// GET /v1/models and GET /v1/models/{id}, OpenAI-compatible: the one generator this server serves, which chat
/// front ends list before their first request. A model appears once it is loaded (GET /readyz says when).
/// </summary>
public static class ModelsEndpoints
{
    public const string OwnedBy = "rag";

    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder routes)
    {
        var models = routes.MapGroup("/v1/models").WithTags("Generation").RequireAuthorization(ApiPolicies.Read);
        models.MapGet("", (HttpContext context) => TypedResults.Ok(new OpenAiModelList(Served(context) is { } model ? [model] : [])))
            .WithSummary("OpenAI-compatible list of models: the loaded generator (empty while none is loaded).");
        models.MapGet("/{id}", (string id, HttpContext context) => Served(context) is { } model && model.Id == id
                ? TypedResults.Ok(model)
                : OpenAiErrors.UnknownModel(id, Served(context)?.Id))
            .Produces<OpenAiModel>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("OpenAI-compatible model object of the loaded generator; 404 model_not_found for any other id.");
        return routes;
    }

    /// <summary>The loaded generator as an OpenAI model, or null when none is configured or it is not loaded yet.</summary>
    public static OpenAiModel? Served(HttpContext context)
    {
        var services = context.RequestServices;
        var warmup = services.GetRequiredService<GeneratorWarmup>();
        if (!warmup.IsConfigured || !warmup.IsReady) return null;
        var file = new FileInfo(services.GetRequiredService<IOptions<GeneratorOptions>>().Value.ModelPath);
        long created = file.Exists ? new DateTimeOffset(file.LastWriteTimeUtc).ToUnixTimeSeconds() : 0;
        return new OpenAiModel(GeneratorId(services), created, OwnedBy);
    }

    /// <summary>The generator's model id (its checkpoint's file name); resolving the chat client waits until the model is loaded.</summary>
    public static string GeneratorId(IServiceProvider services) =>
        services.GetRequiredService<IChatClient>().GetService<ChatClientMetadata>()?.DefaultModelId ?? "rwkv7";
}
