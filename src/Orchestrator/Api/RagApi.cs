using Rag.Orchestrator.Workers;
using Microsoft.AspNetCore.Authentication;
using Rag.Orchestrator.Api.ChatPage;
using Rag.Orchestrator.Api.Documentation;
using Rag.Orchestrator.Api.OpenAi;
using Rag.Orchestrator.Composition;
using Scalar.AspNetCore;

namespace Rag.Orchestrator.Api;

/// <summary>
/// The HTTP API host: configured from the same sources as the CLI, services from <see cref="RagServices.AddRag"/>.
/// Tests call <see cref="CreateBuilder"/>, adjust the builder (test server, test doubles), then <see cref="Build(WebApplicationBuilder)"/>.
/// </summary>
public static class RagApi
{
    /// <param name="settings">Settings layered over every other source (tests, embedding hosts).</param>
    public static WebApplicationBuilder CreateBuilder(string[] args, string? configFile = null, IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddRagSources(configFile);
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddRagApi(builder.Configuration);
        return builder;
    }

    public static WebApplication Build(string[] args, string? configFile = null) => Build(CreateBuilder(args, configFile));

    public static IServiceCollection AddRagApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRag(configuration);
        services.AddOptions<ApiOptions>().Bind(configuration.GetSection(ApiOptions.Section));
        services.AddRagWorkers(configuration, configuration.GetSection(ApiOptions.Section).Get<ApiOptions>()?.Workers ?? new ApiOptions().Workers);
        services.ConfigureHttpJsonOptions(options => ApiJson.Configure(options.SerializerOptions));
        // Before AddProblemDetails: the first writer that accepts a problem writes it.
        services.AddSingleton<IProblemDetailsWriter, OpenAiProblemDetailsWriter>();
        services.AddProblemDetails(options => options.CustomizeProblemDetails = ApiProblems.DescribeRoutingStatus);
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddRagPolicies();
        services.AddSingleton<GeneratorWarmup>();
        services.AddHostedService(sp => sp.GetRequiredService<GeneratorWarmup>());
        services.AddRagTelemetry(configuration);
        services.AddRagOpenApi();
        return services;
    }

    public static WebApplication Build(WebApplicationBuilder builder)
    {
        var app = builder.Build();
        app.UseRequestCounting();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseBodySizeLimit();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapOpenApi();
        app.MapScalarApiReference();
        app.MapHealth();
        app.MapSearch();
        app.MapAsk();
        app.MapChatCompletions();
        app.MapModels();
        app.MapDocuments();
        app.MapDiagnostics();
        app.MapChatPage();
        return app;
    }
}
