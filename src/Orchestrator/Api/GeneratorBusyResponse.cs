using Rag.Generator.Serving;
using Rag.Orchestrator.Api.OpenAi;

namespace Rag.Orchestrator.Api;

/// <summary>
/// 429 for a full generation queue: Retry-After in whole seconds and OpenAI's error body (rate_limit_error /
/// rate_limit_exceeded), which OpenAI clients read and back off on; the same on every route that generates.
/// </summary>
public static class GeneratorBusyResponse
{
    public static async Task<bool> WriteAsync(HttpContext context, GeneratorBusyException busy)
    {
        await OpenAiErrors.TooManyRequests(busy.Message, busy.RetryAfter).ExecuteAsync(context);
        return true;
    }
}
