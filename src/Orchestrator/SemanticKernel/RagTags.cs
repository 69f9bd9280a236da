using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rag.Orchestrator.Plugins;

/// <summary>
/// The <c>tags</c> argument of the plugin functions: one tag as a plain string (<c>"recipes"</c>) or a list
/// (an array, or a JSON array such as <c>["recipes","bread"]</c>), because callers and models write both.
/// </summary>
[TypeConverter(typeof(ArgumentConverter))]
[JsonConverter(typeof(JsonTagsConverter))]
public sealed record RagTags(IReadOnlyList<string> Values)
{
    /// <summary>A JSON array of strings is a list; any other text is one tag.</summary>
    public static RagTags Parse(string text) =>
        text.TrimStart().StartsWith('[') ? JsonSerializer.Deserialize<RagTags>(text)! : new RagTags([text]);

    /// <summary>Kernel arguments given as text or as a list object (SK converts through the type's <see cref="TypeConverter"/>).</summary>
    private sealed class ArgumentConverter : TypeConverter
    {
        public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
            sourceType == typeof(string) || typeof(IEnumerable<string>).IsAssignableFrom(sourceType) || base.CanConvertFrom(context, sourceType);

        public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) => value switch
        {
            string text => Parse(text),
            IEnumerable<string> list => new RagTags([.. list]),
            _ => base.ConvertFrom(context, culture, value),
        };
    }

    /// <summary>Arguments a model sends as JSON: a string or an array of strings.</summary>
    private sealed class JsonTagsConverter : JsonConverter<RagTags>
    {
        public override RagTags Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
        {
            JsonTokenType.String => new RagTags([reader.GetString()!]),
            JsonTokenType.StartArray => new RagTags(JsonSerializer.Deserialize<string[]>(ref reader, options)!),
            _ => throw new JsonException($"tags must be a string or an array of strings; got {reader.TokenType}."),
        };

        public override void Write(Utf8JsonWriter writer, RagTags value, JsonSerializerOptions options) =>
            JsonSerializer.Serialize(writer, value.Values, options);
    }
}
