using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Api;

/// <summary>
/// Decides whether an uploaded file's name may be used as a file name under the upload folder. Names that
/// could leave the folder (.., separators, rooted paths) or that the file system cannot hold are refused, not repaired.
/// </summary>
public static class UploadFileName
{
    private const int MaxLength = 255;

    public static string Check(string? name)
    {
        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length == 0) throw new RagInputException("An uploaded file has no file name.");
        string? problem =
            trimmed.All(c => c == '.') ? "it is only dots"
            : trimmed.Contains("..", StringComparison.Ordinal) ? "it contains '..'"
            : trimmed.IndexOfAny(['/', '\\']) >= 0 ? "it contains a path separator"
            : Path.IsPathRooted(trimmed) ? "it is an absolute path"
            : trimmed.Length > MaxLength ? $"it is longer than {MaxLength} characters"
            : trimmed.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || trimmed.Any(char.IsControl) ? "it contains characters not allowed in file names"
            : null;
        if (problem is not null) throw new RagInputException($"File name '{Printable(trimmed)}' is not allowed: {problem}. Send a plain file name.");
        return trimmed;
    }

    private static string Printable(string name) => new(name.Take(MaxLength).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
