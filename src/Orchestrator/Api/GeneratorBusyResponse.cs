using System.Globalization;
using Rag.Generator.Serving;

namespace Rag.Orchestrator.Api;

/// <summary>
/// 429 for a full generation queue: Retry-After in whole seconds, and the body in OpenAI's error shape
/// (<c>{"error": {"message", "type": "rate_limit_error", "param", "code": "rate_limit_exceeded"}}</c>), which
/// OpenAI clients read and back off on (the same body on every route that generates).
/// </summary>
public static class GeneratorBusyResponse
{
    public static async Task<bool> WriteAsync(HttpContext context, GeneratorBusyException busy)
    {
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(busy.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await context.Response.WriteAsJsonAsync(new OpenAiErrorBody(new OpenAiError(busy.Message, "rate_limit_error", null, "rate_limit_exceeded")),
            ApiJson.Options(context), contentType: "application/json; charset=utf-8");
        return true;
    }

    private sealed record OpenAiErrorBody(OpenAiError Error);

    private sealed record OpenAiError(string Message, string Type, string? Param, string Code);
}
