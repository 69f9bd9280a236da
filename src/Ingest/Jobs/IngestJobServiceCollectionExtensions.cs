using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rag.Retrieval.Embedded;

namespace Rag.Ingest.Jobs;

public static class IngestJobServiceCollectionExtensions
{
    /// <summary>
    /// The durable job queue (<see cref="IIngestJobQueue"/>) in &lt;Store:DataDirectory&gt;/&lt;Jobs:FileName&gt;, with the
    /// "Jobs" options. The file is created on first use, for the embedded store and Qdrant deployments alike.
    /// </summary>
    public static IServiceCollection AddIngestJobQueue(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<IngestJobOptions>().Bind(configuration.GetSection(IngestJobOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IngestJobOptions>, IngestJobOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IIngestJobQueue>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<IngestJobOptions>>().Value;
            string dataDirectory = configuration[$"{EmbeddedStoreOptions.SectionName}:{nameof(EmbeddedStoreOptions.DataDirectory)}"] is { Length: > 0 } configured
                ? configured
                : new EmbeddedStoreOptions().DataDirectory;
            return new SqliteIngestJobQueue(Path.Combine(dataDirectory, options.FileName), options, sp.GetRequiredService<TimeProvider>(),
                sp.GetService<ILogger<SqliteIngestJobQueue>>());
        });
        return services;
    }
}
