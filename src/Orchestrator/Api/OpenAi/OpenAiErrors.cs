using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Rag.Orchestrator.Api.OpenAi;

/// <summary>OpenAI's error body. OpenAI clients read <c>error.message</c>; a problem-details body reaches them as "(no body)".</summary>
public sealed record OpenAiErrorResponse(OpenAiError Error);

/// <param name="Param">The request field at fault, when one is.</param>
/// <param name="Code">A machine-readable reason (e.g. <c>model_not_found</c>), when there is one.</param>
public sealed record OpenAiError(string Message, string Type, string? Param, string? Code);

/// <summary>
/// Errors of the OpenAI-compatible routes (<c>/v1/chat/...</c>, <c>/v1/models...</c>) in OpenAI's shape, with OpenAI's
/// status codes. Handlers of those routes may return <see cref="Result"/> (or <see cref="TooManyRequests"/>), or any
/// problem detail: <see cref="OpenAiProblemDetailsWriter"/> rewrites problems on these routes into this shape, passing
/// the <see cref="ParamExtension"/> and <see cref="CodeExtension"/> extensions through.
/// </summary>
public static class OpenAiErrors
{
    public const string ParamExtension = "param";
    public const string CodeExtension = "code";
    public const string ModelNotFound = "model_not_found";

    /// <summary>Whether a request path belongs to the OpenAI-compatible routes.</summary>
    public static bool Covers(PathString path) => path.StartsWithSegments("/v1/chat") || path.StartsWithSegments("/v1/models");

    /// <summary>OpenAI's error type and default code for a status (OpenAI itself files most 4xx under invalid_request_error).</summary>
    public static OpenAiError Describe(int status, string message, string? param = null, string? code = null)
    {
        var (type, defaultCode) = status switch
        {
            StatusCodes.Status401Unauthorized => ("invalid_request_error", "invalid_api_key"),
            StatusCodes.Status403Forbidden => ("invalid_request_error", "insufficient_permissions"),
            StatusCodes.Status404NotFound => ("invalid_request_error", "not_found"),
            StatusCodes.Status413PayloadTooLarge => ("invalid_request_error", "request_too_large"),
            StatusCodes.Status415UnsupportedMediaType => ("invalid_request_error", "unsupported_media_type"),
            StatusCodes.Status429TooManyRequests => ("rate_limit_error", "rate_limit_exceeded"),
            StatusCodes.Status503ServiceUnavailable => ("server_error", "service_unavailable"),
            >= 500 => ("server_error", null),
            _ => ("invalid_request_error", null),
        };
        return new OpenAiError(message, type, param, code ?? defaultCode);
    }

    /// <summary>An error response in OpenAI's shape, as application/json.</summary>
    public static IResult Result(int status, string message, string? param = null, string? code = null) =>
        new ErrorResult(status, Describe(status, message, param, code), null);

    /// <summary>429 with Retry-After (whole seconds, rounded up), as OpenAI answers a client that should back off.</summary>
    public static IResult TooManyRequests(string message, TimeSpan retryAfter, string? code = null) =>
        new ErrorResult(StatusCodes.Status429TooManyRequests, Describe(StatusCodes.Status429TooManyRequests, message, null, code), retryAfter);

    /// <summary>404 model_not_found for a model this server does not serve.</summary>
    public static IResult UnknownModel(string model, string? served) =>
        Result(StatusCodes.Status404NotFound, served is null
            ? $"The model '{model}' does not exist: no generator model is loaded (GET /v1/models lists the served models)."
            : $"The model '{model}' does not exist; this server serves '{served}' (GET /v1/models).", "model", ModelNotFound);

    public static Task WriteAsync(HttpContext context, int status, OpenAiError error)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new OpenAiErrorResponse(error), ApiJson.Options(context), contentType: "application/json; charset=utf-8");
    }

    /// <summary>An error as a server-sent event (<c>data: {"error": ...}</c>), for a stream that has already begun.</summary>
    public static async Task WriteEventAsync(HttpContext context, int status, string message)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new OpenAiErrorResponse(Describe(status, message)), ApiJson.Options(context));
        await context.Response.WriteAsync($"data: {json}\n\n");
        await context.Response.Body.FlushAsync();
    }

    private sealed class ErrorResult(int status, OpenAiError error, TimeSpan? retryAfter) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public Task ExecuteAsync(HttpContext context)
        {
            if (retryAfter is { } wait)
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return WriteAsync(context, status, error);
        }
    }
}
