using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Api;

/// <summary>Error responses as RFC 9457 problem details, whose detail names the field and the rule.</summary>
public static class ApiProblems
{
    public static ProblemHttpResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, "Bad request", detail);

    public static ProblemHttpResult NotFound(string detail) => Problem(StatusCodes.Status404NotFound, "Not found", detail);

    public static ProblemHttpResult Unavailable(string detail) => Problem(StatusCodes.Status503ServiceUnavailable, "Service unavailable", detail);

    /// <summary>
    /// Routing refuses some requests before any handler runs (a content type the endpoint does not accept, an
    /// unknown path): those problems get a detail too.
    /// </summary>
    public static void DescribeRoutingStatus(ProblemDetailsContext context)
    {
        if (context.ProblemDetails.Detail is not null) return;
        var request = context.HttpContext.Request;
        context.ProblemDetails.Detail = context.ProblemDetails.Status switch
        {
            StatusCodes.Status415UnsupportedMediaType =>
                $"Content-Type '{request.ContentType ?? "none"}' is not accepted by {request.Method} {request.Path}; " +
                "send application/json (or multipart/form-data for file uploads). The OpenAPI document at /openapi/v1.json lists each endpoint's types.",
            StatusCodes.Status404NotFound => $"There is no endpoint at {request.Path}; the OpenAPI document at /openapi/v1.json lists them.",
            StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not accept {request.Method}.",
            _ => null,
        };
    }

    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail });
}

/// <summary>A request the API refuses with a status and a message (malformed JSON, wrong content type, a limit).</summary>
public sealed class ApiRequestException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>The request field at fault, when one is (OpenAI's error "param").</summary>
    public string? Field { get; init; }
}

/// <summary>
/// Maps exceptions to problem details: input errors to 4xx with their message, anything else to a bare 500.
/// No stack trace or exception text of an unexpected error reaches the client (it is logged instead).
/// </summary>
public sealed class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, detail) = exception switch
        {
            ApiRequestException e => (e.Status, e.Message),
            RagInputException e => (StatusCodes.Status400BadRequest, e.Message),
            BadHttpRequestException e => (e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? "The request body is larger than Api:MaxBodyBytes." : e.Message),
            JsonException e => (StatusCodes.Status400BadRequest, ApiJson.Describe(e)),
            // The generator rejects prompts and sampling values it cannot run (e.g. more than Generator:MaxPromptTokens).
            ArgumentException e => (StatusCodes.Status400BadRequest, e.Message),
            InvalidDataException e => (StatusCodes.Status400BadRequest, e.Message),
            OperationCanceledException when context.RequestAborted.IsCancellationRequested => (499, "The client closed the request."),
            // libtorch reports an exhausted device as an ordinary exception: the request was too big, the server is fine
            // (the request's state was disposed on the way out).
            _ when IsOutOfMemory(exception) => (StatusCodes.Status413PayloadTooLarge,
                "The prompt does not fit in the generator's memory; ask with a smaller k, or lower Ask:PromptTokenBudget or Generator:SegmentLength."),
            _ => (StatusCodes.Status500InternalServerError, "An unexpected error occurred; the server log has the details."),
        };
        if (status >= 500) logger.LogError(exception, "Request {Method} {Path} failed", context.Request.Method, context.Request.Path);
        else logger.LogDebug("Request {Method} {Path} refused with {Status}: {Detail}", context.Request.Method, context.Request.Path, status, detail);
        if (context.RequestAborted.IsCancellationRequested) return true;
        if (context.Response.HasStarted)
        {
            // A stream has sent its 200 already; OpenAI clients take an error event as the stream's failure.
            if (OpenAi.OpenAiErrors.Covers(context.Request.Path) && context.Response.ContentType?.StartsWith("text/event-stream", StringComparison.Ordinal) == true)
                await OpenAi.OpenAiErrors.WriteEventAsync(context, status, detail);
            return true;
        }

        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = ReasonPhrase(status), Detail = detail };
        if (((exception as ApiRequestException)?.Field ?? (exception as RagInputException)?.Field) is { } field)
            problem.Extensions[OpenAi.OpenAiErrors.ParamExtension] = field;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    private static bool IsOutOfMemory(Exception exception) =>
        exception is OutOfMemoryException || exception.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase);

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
}
