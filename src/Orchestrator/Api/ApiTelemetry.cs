using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Rag.Orchestrator.Api;

/// <summary>The API's meter "Rag.Api": requests served, tokens generated and the ingestion queue's depth.</summary>
public sealed class ApiMetrics
{
    public const string MeterName = "Rag.Api";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _generatedTokens;

    public ApiMetrics(IMeterFactory meters, Rag.Ingest.Jobs.IIngestJobQueue queue)
    {
        var meter = meters.Create(MeterName);
        // Read when a metrics reader collects (a local SQLite count), not on every request.
        meter.CreateObservableGauge("rag.ingest.queue_depth", () => queue.CountPendingAsync().GetAwaiter().GetResult(),
            unit: "{job}", description: "Ingestion jobs queued or running.");
        _requests = meter.CreateCounter<long>("rag.api.requests", unit: "{request}", description: "HTTP requests served, by route and status.");
        _generatedTokens = meter.CreateCounter<long>("rag.api.generated_tokens", unit: "{token}", description: "Completion tokens generated.");
    }

    public void Request(string method, string route, int status) =>
        _requests.Add(1, new("http.request.method", method), new("http.route", route), new("http.response.status_code", status));

    public void GeneratedTokens(long? count, string endpoint)
    {
        if (count > 0) _generatedTokens.Add(count.Value, new KeyValuePair<string, object?>("rag.endpoint", endpoint));
    }
}

public static class ApiTelemetry
{
    /// <summary>Activity sources of the pipeline stages that a request passes through.</summary>
    public static readonly string[] Sources =
        ["Rag.Ask", "Rag.Generator", "Rag.Ingest", "Rag.Retrieval.Embedded", "Rag.Retrieval.Qdrant", "Rag.Retrieval.Embeddings", "Rag.Orchestrator.Workers"];

    /// <summary>Tracing and metrics through OpenTelemetry; exported to the console only when Telemetry:Console is true.</summary>
    public static IServiceCollection AddRagTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        bool console = configuration.GetValue("Telemetry:Console", false);
        services.AddSingleton<ApiMetrics>();
        services.AddOpenTelemetry()
            .WithTracing(tracing =>
            {
                tracing.AddSource(Sources);
                if (console) tracing.AddConsoleExporter();
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ApiMetrics.MeterName, Rag.Generator.Serving.SchedulerMetrics.MeterName);
                if (console) metrics.AddConsoleExporter();
            });
        return services;
    }

    /// <summary>Counts every request by its route template (not the raw path, which would make unbounded tags).</summary>
    public static IApplicationBuilder UseRequestCounting(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            context.RequestServices.GetRequiredService<ApiMetrics>().Request(context.Request.Method, route, context.Response.StatusCode);
        }
    });
}
