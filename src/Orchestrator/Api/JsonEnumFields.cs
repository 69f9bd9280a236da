using System.Reflection;
using System.Text.Json;

namespace Rag.Orchestrator.Api;

/// <summary>
/// When a request names an enum value the API does not know (e.g. search "mode"), the serializer only says it
/// "could not be converted to System.Nullable`1[...]"; this finds the field from the error's JSON path and lists
/// the values it takes, as the API spells them.
/// </summary>
internal static class JsonEnumFields
{
    /// <summary>"mode must be one of bm25, dense, hybrid.", or null when the path does not end at an enum field.</summary>
    public static string? Rule(Type body, string? path, JsonNamingPolicy naming)
    {
        if (path is null || !path.StartsWith("$.", StringComparison.Ordinal)) return null;
        Type? type = body;
        string field = "";
        foreach (var segment in path[2..].Split('.'))
        {
            field = segment.Split('[')[0];
            type = type?.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .FirstOrDefault(p => naming.ConvertName(p.Name) == field)?.PropertyType;
            if (type is null) return null;
            if (segment.Contains('[')) type = ElementType(type);
        }

        var target = Nullable.GetUnderlyingType(type!) ?? type;
        if (target is not { IsEnum: true }) return null;
        var names = Enum.GetNames(target).Select(naming.ConvertName);
        return $"{field} must be one of {string.Join(", ", names)}.";
    }

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
}
