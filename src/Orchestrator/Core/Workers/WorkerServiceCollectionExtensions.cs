using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Rag.Ingest.Jobs;

namespace Rag.Orchestrator.Workers;

public static class WorkerServiceCollectionExtensions
{
    /// <summary>
    /// The job queue, <paramref name="count"/> hosted <see cref="IngestWorker"/>s and their housekeeping (progress line,
    /// pruning of old finished jobs); needs AddRag for the pipeline.
    /// </summary>
    public static IServiceCollection AddRagWorkers(this IServiceCollection services, IConfiguration configuration, int count)
    {
        if (count < 1)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"The worker count ({count}) must be at least 1.");
        services.AddIngestJobQueue(configuration);
        services.AddSingleton<WorkerProgress>();
        services.AddHostedService<WorkerHousekeeping>();
        foreach (int index in Enumerable.Range(0, count))
            services.AddSingleton<IHostedService>(sp => IngestWorker.Create(sp, IngestWorker.NewWorkerId(index)));
        return services;
    }
}
