using System.Diagnostics;

namespace Rag.Orchestrator.Tests;

/// <summary>Programs some tests drive (node, npm, a Chromium), found on PATH; such tests skip when one is missing.</summary>
public static class ExternalTools
{
    /// <summary>The first of <paramref name="names"/> found as an executable on PATH, or null.</summary>
    public static string? Find(params string[] names) =>
        names.SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Select(folder => Path.Combine(folder, name)))
            .FirstOrDefault(File.Exists);

    /// <summary>Runs a program to its end (killing it after <paramref name="timeout"/>) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, IEnumerable<string> arguments, string workingDirectory,
        TimeSpan timeout, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(program)} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}.");
        }
        return (process.ExitCode, await output, await error);
    }
}
