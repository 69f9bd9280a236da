using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Rag.Orchestrator.Api;

/// <summary>Writes a text/event-stream response, flushing each event so clients see tokens as they come.</summary>
public sealed class ServerSentEvents
{
    private readonly HttpResponse _response;
    private readonly JsonSerializerOptions _json;

    private ServerSentEvents(HttpResponse response, JsonSerializerOptions json)
    {
        _response = response;
        _json = json;
    }

    public static async Task<ServerSentEvents> StartAsync(HttpContext context, JsonSerializerOptions json)
    {
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.StartAsync(context.RequestAborted);
        return new ServerSentEvents(context.Response, json);
    }

    /// <summary>One event whose data is <paramref name="payload"/> as JSON (a single line).</summary>
    public Task WriteJsonAsync<T>(T payload, CancellationToken cancellationToken, string? eventName = null) =>
        WriteDataAsync(JsonSerializer.Serialize(payload, _json), cancellationToken, eventName);

    public async Task WriteDataAsync(string data, CancellationToken cancellationToken, string? eventName = null)
    {
        var text = eventName is null ? $"data: {data}\n\n" : $"event: {eventName}\ndata: {data}\n\n";
        await _response.WriteAsync(text, cancellationToken);
        await _response.Body.FlushAsync(cancellationToken);
    }
}
