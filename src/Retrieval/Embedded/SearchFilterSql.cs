using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Rag.Retrieval.Abstractions;

namespace Rag.Retrieval.Embedded;

/// <summary>Translates a <see cref="SearchFilter"/> into SQL conditions on the documents table (alias d).</summary>
internal static class SearchFilterSql
{
    public static bool IsEmpty(SearchFilter? filter) =>
        filter is null || (filter.DocumentIds is null && filter.Tags is null && filter.SourcePrefix is null
                           && filter.UpdatedFrom is null && filter.UpdatedTo is null);

    /// <returns>" AND ..." conditions (empty when no filter); parameters are added to the command.</returns>
    public static string Conditions(SearchFilter? filter, SqliteCommand command)
    {
        if (filter is null) return "";
        var sql = new List<string>();
        if (filter.DocumentIds is { } ids)
            sql.Add($"d.id IN ({InList(command, "fid", ids)})");
        if (filter.Tags is { } tags)
            sql.Add($"EXISTS (SELECT 1 FROM document_tags t WHERE t.document_id = d.id AND t.tag IN ({InList(command, "ftag", tags)}))");
        if (filter.SourcePrefix is { } prefix)
        {
            // substr, not LIKE: LIKE is case-insensitive for ASCII and treats % and _ as wildcards.
            command.Parameters.AddWithValue("@fprefix", prefix);
            sql.Add("substr(d.source, 1, length(@fprefix)) = @fprefix");
        }
        if (filter.UpdatedFrom is { } from)
        {
            command.Parameters.AddWithValue("@ffrom", FormatTime(from));
            sql.Add("d.updated_at >= @ffrom");
        }
        if (filter.UpdatedTo is { } to)
        {
            command.Parameters.AddWithValue("@fto", FormatTime(to));
            sql.Add("d.updated_at <= @fto");
        }
        return sql.Count == 0 ? "" : " AND " + string.Join(" AND ", sql);
    }

    /// <summary>Fixed-width ISO-8601 UTC with milliseconds: string order equals time order.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.ParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>
    /// The values of an IN (...) list as one JSON array parameter: SQLite finds a named parameter by a linear
    /// search, so binding hundreds of them costs more than the row lookups they select.
    /// </summary>
    public static string InList<T>(SqliteCommand command, string name, IReadOnlyCollection<T> values) where T : notnull
    {
        command.Parameters.AddWithValue("@" + name, JsonSerializer.Serialize(values));
        return $"SELECT value FROM json_each(@{name})";
    }
}
