using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace Rag.Orchestrator.Api.ChatPage;

/// <summary>
/// The chat page at "/": plain HTML, JavaScript and CSS embedded in the assembly (nothing from a CDN), speaking to
/// the API the way an OpenAI client does (POST /v1/chat/completions with the whole conversation, streamed).
/// The page itself holds no data, so it needs no key; the API calls it makes carry the key typed into it.
/// </summary>
public static class ChatPageEndpoints
{
    private const string KeysPlaceholder = "{{API_KEYS}}";

    /// <summary>Content types of the embedded files (LogicalName "ChatPage/NAME" in the project file).</summary>
    private static readonly FrozenDictionary<string, string> Assets = new Dictionary<string, string>
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["chat.js"] = "text/javascript; charset=utf-8",
        ["chat.css"] = "text/css; charset=utf-8",
    }.ToFrozenDictionary();

    private static readonly Lazy<FrozenDictionary<string, string>> Texts = new(() => Assets.Keys.ToFrozenDictionary(name => name, Read));

    public static IEndpointRouteBuilder MapChatPage(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/", (HttpContext context, IOptions<ApiOptions> options) =>
            {
                // The page shows its key field only when the API asks for keys.
                bool keys = options.Value.Keys.Any(k => !string.IsNullOrEmpty(k.Key));
                return Page(context, "index.html", Texts.Value["index.html"].Replace(KeysPlaceholder, keys ? "on" : "off", StringComparison.Ordinal));
            })
            .AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/ui/{file}", (HttpContext context, string file) =>
                file != "index.html" && Texts.Value.TryGetValue(file, out var text) ? Page(context, file, text) : Results.NotFound())
            .AllowAnonymous().ExcludeFromDescription();
        return routes;
    }

    private static IResult Page(HttpContext context, string name, string text)
    {
        var headers = context.Response.Headers;
        // Everything the page loads comes from this server; model output is inserted as text, never as markup.
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-cache";
        return Results.Text(text, Assets[name]);
    }

    private static string Read(string name)
    {
        using var stream = typeof(ChatPageEndpoints).Assembly.GetManifestResourceStream($"ChatPage/{name}")
                           ?? throw new InvalidOperationException($"The chat page file '{name}' is not embedded in the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
