using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Rag.Retrieval.Embeddings;

public static class EmbeddingsServiceCollectionExtensions
{
    /// <summary>Registers <see cref="BertEmbeddingGenerator"/> as the string embedding generator, configured from section "Embeddings".</summary>
    public static IServiceCollection AddBertEmbeddingGenerator(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<BertEmbeddingOptions>(configuration.GetSection(BertEmbeddingOptions.SectionName));
        services.AddSingleton<BertEmbeddingGenerator>();
        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(sp => sp.GetRequiredService<BertEmbeddingGenerator>());
        return services;
    }
}
