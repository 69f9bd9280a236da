using Microsoft.Extensions.Configuration;

namespace Rag.Orchestrator.Composition;

/// <summary>
/// Configuration sources, later ones winning: appsettings.json beside the executable (copied from
/// config/), appsettings.{RAG_ENVIRONMENT}.json, an optional --config file, then environment variables
/// (Section__Key, e.g. Generator__ModelPath).
/// </summary>
public static class RagConfiguration
{
    public static IConfigurationBuilder AddRagSources(this IConfigurationBuilder builder, string? configFile)
    {
        var environment = Environment.GetEnvironmentVariable("RAG_ENVIRONMENT");
        builder.SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true);
        if (configFile is not null)
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full))
                throw new FileNotFoundException($"Configuration file '{full}' does not exist.", full);
            builder.AddJsonFile(full, optional: false);
        }
        return builder.AddEnvironmentVariables();
    }
}
