using Rag.Generator.Checkpoints;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Cli;

/// <summary>
/// Runs a command body and maps failures a user can act on to a one-line message and an exit code:
/// 2 for bad input, 1 for everything else. No stack traces reach the terminal.
/// </summary>
public static class CliErrors
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;

    public static async Task<int> RunAsync(Func<Task<int>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is RagInputException or CheckpointFormatException)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return BadInput;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("cancelled");
            return Failed;
        }
        catch (Exception e) when (IsUserFacing(e))
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return Failed;
        }
    }

    /// <summary>Exceptions whose message names the input and the problem (file, key, setting).</summary>
    private static bool IsUserFacing(Exception e) =>
        e is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException
            or FormatException or InvalidOperationException or NotSupportedException or HttpRequestException
            or Microsoft.Extensions.Options.OptionsValidationException;
}
