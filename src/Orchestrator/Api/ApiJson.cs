using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rag.Orchestrator.Api;

/// <summary>
/// JSON of the API: snake_case names (as OpenAI's API), enums as snake_case strings, unknown fields ignored.
/// Bodies are read here rather than by parameter binding so that a wrong content type or malformed JSON
/// gets a problem detail naming the field instead of a bare status.
/// </summary>
public static class ApiJson
{
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
    }

    /// <summary>The serializer options the API was configured with (see <see cref="Configure"/>).</summary>
    public static JsonSerializerOptions Options(HttpContext context) =>
        context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;

    public static Task<T> ReadAsync<T>(HttpContext context) where T : class =>
        ReadAsync<T>(context.Request, Options(context), context.RequestAborted);

    public static async Task<T> ReadAsync<T>(HttpRequest request, JsonSerializerOptions options, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
            throw new ApiRequestException(StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type must be application/json; got '{request.ContentType ?? "none"}'.");
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, options, cancellationToken)
                   ?? throw new ApiRequestException(StatusCodes.Status400BadRequest, "The request body is JSON null; an object is expected.");
        }
        catch (JsonException e)
        {
            throw new ApiRequestException(StatusCodes.Status400BadRequest, Describe(e, typeof(T))) { Field = Field(e.Path) };
        }
    }

    /// <param name="body">The type the body was read as, so that an unknown enum value is answered with the valid ones.</param>
    public static string Describe(JsonException e, Type? body = null) =>
        $"The request body is not valid JSON for this endpoint at '{e.Path ?? "$"}' (line {e.LineNumber + 1}): " +
        ((body is null ? null : JsonEnumFields.Rule(body, e.Path, JsonNamingPolicy.SnakeCaseLower)) ?? FirstSentence(e.Message));

    /// <summary>The field a JSON path names ("$.messages[0].content" → "messages[0].content"); null for the whole body.</summary>
    private static string? Field(string? path) => path is null || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }
}

/// <summary>A field that may be one string or an array of strings, like OpenAI's "stop".</summary>
public sealed class StringOrArrayConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return [reader.GetString()!];
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("Expected a string or an array of strings.");
        var values = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String) throw new JsonException("Expected a string or an array of strings.");
            values.Add(reader.GetString()!);
        }
        return values;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value.ToArray(), options);
}

/// <summary>
/// OpenAI message content: a string, or an array of parts of which the text parts are joined
/// (other part types, such as images, have no meaning for a text model and are refused).
/// </summary>
public sealed class MessageContentConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return reader.GetString();
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("Message content must be a string or an array of text parts.");
        var text = new StringBuilder();
        using var parts = JsonDocument.ParseValue(ref reader);
        foreach (var part in parts.RootElement.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.GetString() != "text"
                || !part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
                throw new JsonException("Only text content parts ({\"type\": \"text\", \"text\": ...}) are supported.");
            text.Append(partText.GetString());
        }
        return text.ToString();
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
