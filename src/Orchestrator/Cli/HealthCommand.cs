using System.CommandLine;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Cli;

/// <summary>
/// `rag health [--url U] [--ready]`: asks a running `rag serve` whether it is up (/healthz) or ready (/readyz), for
/// container health checks: the image needs no curl, and the answer is one line and an exit code.
/// </summary>
public static class HealthCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "Base address of the server.", DefaultValueFactory = _ => ServeCommand.DefaultUrls };
        var ready = new Option<bool>("--ready") { Description = "Check /readyz (store reachable, generator loaded) instead of /healthz." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the answer.", DefaultValueFactory = _ => 5 };
        var command = new Command("health", "Check a running `rag serve` (exit 0 when healthy or ready, 1 otherwise).") { url, ready, timeout };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            var seconds = parse.GetValue(timeout);
            if (!(seconds > 0)) throw new RagInputException($"--timeout must be positive; got {seconds}.");
            var baseUrl = parse.GetValue(url)!;
            if (!Uri.TryCreate(baseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var root) || root.Scheme is not ("http" or "https"))
                throw new RagInputException($"--url '{baseUrl}' is not an http:// or https:// address.");
            var endpoint = new Uri(root, parse.GetValue(ready) ? "readyz" : "healthz");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(seconds) };
            try
            {
                using var response = await http.GetAsync(endpoint, ct);
                Console.WriteLine($"{endpoint}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
                return response.IsSuccessStatusCode ? CliErrors.Ok : CliErrors.Failed;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync($"error: {endpoint}: no answer ({e.Message})");
                return CliErrors.Failed;
            }
        }, ct));
        return command;
    }
}
