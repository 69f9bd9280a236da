using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Rag.Orchestrator.Cli;

/// <summary>
/// Command-line syntax errors as one line a user can act on: System.CommandLine names the .NET type it wanted
/// ("System.Nullable`1[System.Int32]") and prints the whole help; users need the option and the kind of value.
/// </summary>
internal static partial class ParseErrors
{
    public static string Describe(ParseError error)
    {
        var conversion = CannotParse().Match(error.Message);
        if (!conversion.Success)
            return error.Message;
        return $"{conversion.Groups["symbol"].Value} expects {Kind(conversion.Groups["type"].Value)}; got '{conversion.Groups["value"].Value}'.";
    }

    private static string Kind(string typeName) =>
        typeName.Contains("Int32") || typeName.Contains("Int64") ? "an integer"
        : typeName.Contains("Single") || typeName.Contains("Double") ? "a number"
        : typeName.Contains("Boolean") ? "true or false"
        : "another kind of value";

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (option|command|argument) '(?<symbol>[^']*)' as expected type '(?<type>[^']*)'")]
    private static partial Regex CannotParse();
}
