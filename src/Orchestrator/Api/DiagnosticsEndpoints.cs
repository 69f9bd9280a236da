using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Rag.Orchestrator.Api;

/// <summary>
/// The server's managed memory, so that a load run (`rag bench api`) can show it stays flat:
/// GET /v1/diagnostics/memory reads the GC's figures; POST /v1/diagnostics/memory/collect first runs a full,
/// compacting collection so the heap figure is the live data alone (write permission: it pauses the process).
/// </summary>
public static class DiagnosticsEndpoints
{
    /// <param name="HeapBytes">Managed heap at the end of the last garbage collection, free space excluded: the live data when
    /// that collection was full (as after /collect).</param>
    /// <param name="CommittedBytes">Memory the GC has committed for the managed heap.</param>
    /// <param name="WorkingSetBytes">Resident memory of the whole process, native allocations (the model's tensors) included.</param>
    public sealed record MemoryReport(long HeapBytes, long CommittedBytes, long WorkingSetBytes, int Gen0Collections, int Gen1Collections, int Gen2Collections);

    public static IEndpointRouteBuilder MapDiagnostics(this IEndpointRouteBuilder routes)
    {
        var memory = routes.MapGroup("/v1/diagnostics/memory").WithTags("Diagnostics");
        memory.MapGet("", () => Report()).RequireAuthorization(ApiPolicies.Read)
            .WithSummary("Managed heap, committed and resident memory, and GC counts.");
        memory.MapPost("/collect", () =>
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            return Report();
        }).RequireAuthorization(ApiPolicies.Write)
            .WithSummary("Run a full compacting garbage collection, then report memory (the live managed heap).");
        return routes;
    }

    private static Ok<MemoryReport> Report()
    {
        using var process = Process.GetCurrentProcess();
        // Not GC.GetTotalMemory: under the regions GC it can underflow to a negative figure (dotnet/runtime#106712),
        // which it did in our load runs. The last collection's own heap size less its free space is exact.
        var info = GC.GetGCMemoryInfo();
        return TypedResults.Ok(new MemoryReport(info.HeapSizeBytes - info.FragmentedBytes, info.TotalCommittedBytes,
            process.WorkingSet64, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)));
    }
}
