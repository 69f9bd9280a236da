using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rag.Ingest.Jobs;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Composition;
using Rag.Orchestrator.Workers;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag worker [--count N] [--drain]`: ingestion workers on the durable job queue, in a generic host, until Ctrl+C (or an empty queue).</summary>
public static class WorkerCommand
{
    public static Command Create()
    {
        var count = new Option<int>("--count") { Description = "Workers in this process (default 1).", DefaultValueFactory = _ => 1 };
        var drain = new Option<bool>("--drain")
        {
            Description = "Exit once no job is queued or running (jobs of crashed workers included, once their lease expires): for batch runs and cron.",
        };
        var command = new Command("worker",
            "Run ingestion workers on the job queue (<Store:DataDirectory>/jobs.db) until Ctrl+C. Several processes may share one data directory.")
        {
            count, drain,
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
            if (!parse.GetValue(drain))
            {
                await host.RunAsync(ct);
                return CliErrors.Ok;
            }

            await host.StartAsync(ct);
            var queue = host.Services.GetRequiredService<IIngestJobQueue>();
            var poll = host.Services.GetRequiredService<IOptions<IngestJobOptions>>().Value.Poll;
            try
            {
                // Running jobs count as pending: a crashed worker's job is waited for until its lease expires and it is redone.
                while (await queue.CountPendingAsync(ct) > 0)
                    await Task.Delay(poll, ct);
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }
            Console.WriteLine("queue drained: no job queued or running");
            return CliErrors.Ok;
        }, ct));
        return command;
    }
}
