using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Rag.Orchestrator.Api.OpenAi;

namespace Rag.Orchestrator.Api.Documentation;

/// <summary>
/// The OpenAPI document, made to say what the middleware does as well as what the handlers declare: the API-key
/// schemes and 401/403 on every route that needs a key, 413/415 on every route with a body, and error bodies in the
/// shape each route really writes (OpenAI's error on the OpenAI routes, problem details elsewhere).
/// </summary>
public static class ApiDocument
{
    public const string BearerScheme = "bearer";
    public const string HeaderScheme = "apiKey";

    public static IServiceCollection AddRagOpenApi(this IServiceCollection services) => services.AddOpenApi(options =>
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key from Api:Keys as 'Authorization: Bearer KEY' (needed only when Api:Keys lists any).",
            };
            document.Components.SecuritySchemes[HeaderScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthenticationHandler.HeaderName,
                Description = "An API key from Api:Keys in the X-Api-Key header (needed only when Api:Keys lists any).",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer(DescribeMiddlewareAsync);
    });

    private static async Task DescribeMiddlewareAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        operation.Responses ??= new OpenApiResponses();
        if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
        {
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(HeaderScheme, context.Document)] = [] },
            ];
            Declare(operation, StatusCodes.Status401Unauthorized, "No API key, or one that is not valid (when Api:Keys lists any).");
            Declare(operation, StatusCodes.Status403Forbidden, "The API key may not do this (writing needs CanWrite; the key must cover the index).");
        }
        if (operation.RequestBody is not null)
        {
            Declare(operation, StatusCodes.Status413PayloadTooLarge, "The body is larger than Api:MaxBodyBytes.");
            Declare(operation, StatusCodes.Status415UnsupportedMediaType, "The Content-Type is not one of the request body's.");
        }

        bool openAi = OpenAiErrors.Covers("/" + context.Description.RelativePath);
        var (mediaType, type) = openAi ? ("application/json", typeof(OpenAiErrorResponse)) : ("application/problem+json", typeof(ProblemDetails));
        var schema = await context.GetOrCreateSchemaAsync(type, null, cancellationToken);
        foreach (var (status, response) in operation.Responses)
        {
            if (!int.TryParse(status, out int code) || code < 400 || response is not OpenApiResponse concrete) continue;
            // A route's own error body (e.g. /readyz's 503 readiness) stays; problems take the shape the writer gives them.
            if (concrete.Content is { Count: > 0 } content && !content.ContainsKey("application/problem+json")) continue;
            concrete.Content = new Dictionary<string, OpenApiMediaType> { [mediaType] = new() { Schema = schema } };
            if (string.IsNullOrEmpty(concrete.Description) || concrete.Description == Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(code))
                concrete.Description = openAi ? $"{Reason(code)}: an OpenAI error body whose message says why." : $"{Reason(code)}: a problem detail that says why.";
        }
    }

    private static void Declare(OpenApiOperation operation, int status, string description) =>
        operation.Responses!.TryAdd(status.ToString(System.Globalization.CultureInfo.InvariantCulture), new OpenApiResponse { Description = description });

    private static string Reason(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
