using System.Text.RegularExpressions;

namespace Rag.Retrieval.Search;

/// <summary>
/// Turns free user text into a safe FTS5 MATCH expression: words of letters/digits, each quoted, ORed.
/// Operators and punctuation in the input (AND, NEAR(, -, ") therefore never reach the FTS5 parser.
/// </summary>
public static partial class Fts5Query
{
    // Marks (\p{M}) belong to their word: decomposed "cre\u0300me" must stay one term, as unicode61 sees it.
    [GeneratedRegex(@"[\p{L}\p{N}\p{M}]+")]
    private static partial Regex Word();

    /// <returns>The MATCH expression, or null when the text holds no searchable word.</returns>
    public static string? FromUserText(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var words = Word().Matches(text).Select(m => m.Value).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return words.Count == 0 ? null : string.Join(" OR ", words.Select(w => $"\"{w}\""));
    }
}
