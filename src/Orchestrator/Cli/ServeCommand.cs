using System.CommandLine;
using Rag.Orchestrator.Api;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag serve [--urls http://127.0.0.1:5080]`: the HTTP API (OpenAPI at /openapi/v1.json, UI at /scalar) until Ctrl+C.</summary>
public static class ServeCommand
{
    public const string DefaultUrls = "http://127.0.0.1:5080";

    public static Command Create()
    {
        var urls = new Option<string>("--urls")
        {
            Description = $"Addresses to listen on, separated by ';' (default {DefaultUrls}).",
            DefaultValueFactory = _ => DefaultUrls,
        };
        var command = new Command("serve", "Serve the HTTP API: search, ask, OpenAI-compatible chat completions, document uploads.") { urls };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            var addresses = ListenAddresses.Parse(parse.GetValue(urls)!);
            var builder = RagApi.CreateBuilder([], parse.GetValue(RagCli.ConfigOption));
            builder.WebHost.UseUrls(addresses);
            await using var app = RagApi.Build(builder);
            await app.StartAsync(ct);
            foreach (var url in app.Urls) Console.WriteLine($"listening on {url} (API reference: {url.TrimEnd('/')}/scalar)");
            await app.WaitForShutdownAsync(ct);
            return CliErrors.Ok;
        }, ct));
        return command;
    }
}
