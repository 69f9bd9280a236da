using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Rag.Retrieval.Abstractions;

namespace Rag.Retrieval.Embedded;

public static class EmbeddedStoreServiceCollectionExtensions
{
    /// <summary>Registers the SQLite store as the singleton <see cref="IDocumentStore"/>, bound to section "Store".</summary>
    public static IServiceCollection AddEmbeddedDocumentStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<EmbeddedStoreOptions>(configuration.GetSection(EmbeddedStoreOptions.SectionName));
        services.TryAddSingleton<SqliteDocumentStore>();
        services.TryAddSingleton<IDocumentStore>(provider => provider.GetRequiredService<SqliteDocumentStore>());
        return services;
    }
}
