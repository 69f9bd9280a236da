using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Rag.Orchestrator.Api.Documentation;

public static class ServerSentEventsOpenApi
{
    /// <summary>
    /// Declares a text/event-stream 200 response beside the JSON one (ApiExplorer keeps one type per status):
    /// its schema is that of each event's data (one of <paramref name="events"/>); <paramref name="description"/> describes both.
    /// </summary>
    public static RouteHandlerBuilder ProducesServerSentEvents(this RouteHandlerBuilder builder, string description, params Type[] events) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schemas = new List<IOpenApiSchema>();
            foreach (var type in events) schemas.Add(await context.GetOrCreateSchemaAsync(type, null, cancellationToken));
            var schema = schemas.Count == 1 ? schemas[0] : new OpenApiSchema { OneOf = schemas };
            operation.Responses ??= new OpenApiResponses();
            if (!operation.Responses.TryGetValue("200", out var existing) || existing is not OpenApiResponse ok)
                operation.Responses["200"] = ok = new OpenApiResponse { Description = "OK" };
            ok.Content ??= new Dictionary<string, OpenApiMediaType>();
            ok.Content["text/event-stream"] = new OpenApiMediaType { Schema = schema };
            ok.Description = description;
        });
}
