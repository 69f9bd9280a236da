using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Rag.Orchestrator.Api.OpenAi;

/// <summary>
/// Writes every problem raised on an OpenAI-compatible route (handler results, exceptions, authentication,
/// body limits, routing statuses) as OpenAI's error body instead of problem details, so OpenAI clients show the message.
/// Registered before the default writer, which keeps every other route.
/// </summary>
public sealed class OpenAiProblemDetailsWriter(IOptions<ProblemDetailsOptions> options) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => OpenAiErrors.Covers(context.HttpContext.Request.Path);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        // The default writer runs the customization (details of routing statuses); this one replaces it, so runs it too.
        options.Value.CustomizeProblemDetails?.Invoke(context);
        var problem = context.ProblemDetails;
        int status = problem.Status ?? context.HttpContext.Response.StatusCode;
        var message = problem.Detail ?? problem.Title ?? Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
        var error = OpenAiErrors.Describe(status, message, Extension(problem, OpenAiErrors.ParamExtension), Extension(problem, OpenAiErrors.CodeExtension));
        return new ValueTask(OpenAiErrors.WriteAsync(context.HttpContext, status, error));
    }

    private static string? Extension(ProblemDetails problem, string name) =>
        problem.Extensions.TryGetValue(name, out var value) ? value?.ToString() : null;
}
