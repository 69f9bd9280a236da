using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Rag.Orchestrator.Api;

/// <summary>
/// Enforces Api:MaxBodyBytes: a declared Content-Length over the limit is refused before reading (413), and the
/// server's own limit is set so a chunked body is cut off when it passes it.
/// </summary>
public static class BodySizeLimit
{
    public static IApplicationBuilder UseBodySizeLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        long max = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxBodyBytes;
        if (context.Request.ContentLength > max)
            throw new ApiRequestException(StatusCodes.Status413PayloadTooLarge,
                $"The request body has {context.Request.ContentLength} bytes; the limit is {max} (Api:MaxBodyBytes).");
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            feature.MaxRequestBodySize = max;
        await next(context);
    });
}
