using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rag.Ingest.Chunking;
using Rag.Ingest.Loading;
using Rag.Ingest.Pipeline;

namespace Rag.Ingest;

public static class IngestServiceCollectionExtensions
{
    /// <summary>
    /// Registers the "Ingest" options (validated at start), the built-in loaders, the token chunker and the
    /// pipeline. The host registers <c>IDocumentStore</c> and, optionally, an <c>IEmbeddingGenerator</c>.
    /// </summary>
    public static IServiceCollection AddRagIngest(this IServiceCollection services)
    {
        services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>());

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDocumentLoader, PlainTextLoader>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDocumentLoader, MarkdownLoader>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDocumentLoader, HtmlLoader>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDocumentLoader, PdfLoader>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDocumentLoader, DocxLoader>());
        services.TryAddSingleton<DocumentLoaderRegistry>();

        services.TryAddSingleton(sp => TokenChunker.Create(sp.GetRequiredService<IOptions<IngestOptions>>().Value));
        services.TryAddTransient<IngestPipeline>();
        return services;
    }
}
