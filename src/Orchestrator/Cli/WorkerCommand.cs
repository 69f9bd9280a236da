using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Composition;
using Rag.Orchestrator.Workers;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag worker [--count N]`: ingestion workers on the durable job queue, in a generic host, until Ctrl+C.</summary>
public static class WorkerCommand
{
    public static Command Create()
    {
        var count = new Option<int>("--count") { Description = "Workers in this process (default 1).", DefaultValueFactory = _ => 1 };
        var command = new Command("worker",
            "Run ingestion workers on the job queue (<Store:DataDirectory>/jobs.db) until Ctrl+C. Several processes may share one data directory.")
        {
            count,
        };
        command.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            int workers = parse.GetValue(count);
            if (workers < 1) throw new RagInputException($"--count must be at least 1; got {workers}.");

            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Configuration.AddRagSources(parse.GetValue(RagCli.ConfigOption));
            builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging")).AddSimpleConsole(console => console.SingleLine = true);
            builder.Services.AddRag(builder.Configuration).AddRagWorkers(builder.Configuration, workers);
            using IHost host = builder.Build();
            // Ctrl+C cancels ct; the host then stops the workers, which release the jobs they hold.
            await host.RunAsync(ct);
            return CliErrors.Ok;
        }, ct));
        return command;
    }
}
