using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rag.Retrieval.Abstractions;

namespace Rag.Retrieval.Qdrant;

public static class QdrantServiceCollectionExtensions
{
    /// <summary>Registers <see cref="QdrantDocumentStore"/> as the <see cref="IDocumentStore"/>, configured from section "Qdrant".</summary>
    public static IServiceCollection AddQdrantDocumentStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<QdrantOptions>(configuration.GetSection(QdrantOptions.SectionName));
        // Polly enforces the per-attempt timeout; HttpClient's own limit only backs it up.
        services.AddHttpClient(nameof(QdrantDocumentStore), (sp, http) =>
            http.Timeout = sp.GetRequiredService<IOptions<QdrantOptions>>().Value.AttemptTimeout * 2);
        services.AddSingleton<QdrantDocumentStore>(sp => new QdrantDocumentStore(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(QdrantDocumentStore)),
            sp.GetRequiredService<IOptions<QdrantOptions>>(),
            sp.GetService<Microsoft.Extensions.Logging.ILogger<QdrantDocumentStore>>()));
        services.AddSingleton<IDocumentStore>(sp => sp.GetRequiredService<QdrantDocumentStore>());
        return services;
    }
}
