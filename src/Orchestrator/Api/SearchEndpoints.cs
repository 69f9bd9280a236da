using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Api;

/// <summary>POST /v1/search: ranked passages for a query, without generation.</summary>
public static class SearchEndpoints
{
    public static IEndpointRouteBuilder MapSearch(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/search", SearchAsync)
            .RequireAuthorization(ApiPolicies.Read)
            .Accepts<SearchRequest>("application/json")
            .Produces<SearchResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithTags("Retrieval")
            .WithSummary("Search the documents (BM25, dense or hybrid).");
        return routes;
    }

    private static async Task<Ok<SearchResponse>> SearchAsync(HttpContext context, PassageRetriever retriever, IOptions<AskOptions> limits)
    {
        var request = await ApiJson.ReadAsync<SearchRequest>(context);
        var query = RequestLimits.Query(request.Query, limits.Value);
        int k = RequestLimits.K(request.K, limits.Value);
        var result = await retriever.RetrieveAsync(query, k, request.Mode, ApiFilter.ToSearchFilter(request.Filters), context.RequestAborted);
        var hits = result.Hits.Select(h => new ApiSearchHit(h.ChunkId, h.DocumentId, h.Source, h.Title, h.Ordinal, h.Score, h.Text)).ToList();
        return TypedResults.Ok(new SearchResponse(result.Mode, hits));
    }
}
