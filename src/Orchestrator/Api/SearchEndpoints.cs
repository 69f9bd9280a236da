using Microsoft.AspNetCore.Http.HttpResults;
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

    private static async Task<Ok<SearchResponse>> SearchAsync(HttpContext context, AskService ask)
    {
        var request = await ApiJson.ReadAsync<SearchRequest>(context);
        var result = await ask.SearchAsync(request.Query, request.K, request.Mode, ApiFilter.ToSearchFilter(request.Filters), context.RequestAborted);
        var hits = result.Hits.Select(h => new ApiSearchHit(h.ChunkId, h.DocumentId, h.Source, h.Title, h.Ordinal, h.Score, h.Text)).ToList();
        return TypedResults.Ok(new SearchResponse(result.Mode, hits));
    }
}
