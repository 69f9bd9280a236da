using Microsoft.Extensions.AI;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Api.Documentation;

namespace Rag.Orchestrator.Api;

/// <summary>
/// POST /v1/ask: an answer with its citations. Without a generator the answer is null and the notice says why;
/// the retrieved passages still come back as citations (never a made-up answer).
/// </summary>
public static class AskEndpoints
{
    public static IEndpointRouteBuilder MapAsk(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/ask", AskAsync)
            .RequireAuthorization(ApiPolicies.Read)
            .Accepts<AskApiRequest>("application/json")
            .Produces<AskApiResponse>()
            .ProducesServerSentEvents("The answer; with stream: true, server-sent 'token' events (data {text}), then one 'done' event (citations, mode, notice, finish_reason).",
                typeof(AskStreamToken), typeof(AskStreamEnd))
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithTags("Generation")
            .WithSummary("Answer a question from the documents, with citations (stream: true for 'token' events, then a 'done' event).");
        return routes;
    }

    private static async Task<IResult> AskAsync(HttpContext context, GeneratorWarmup warmup, ApiMetrics metrics)
    {
        var body = await ApiJson.ReadAsync<AskApiRequest>(context);
        if (warmup.Failure is not null) return ApiProblems.Unavailable(warmup.Unavailable!);
        var ask = context.RequestServices.GetRequiredService<AskService>();
        var request = new AskRequest(body.Question ?? "", body.K, ApiFilter.ToSearchFilter(body.Filters));
        if (!body.Stream)
        {
            var result = await ask.AskAsync(request, context.RequestAborted);
            metrics.GeneratedTokens(result.Usage?.OutputTokenCount, "ask");
            return TypedResults.Ok(new AskApiResponse(result.Answer, ApiCitation.From(result.Context.Citations), result.Context.Mode, result.Notice,
                AskUsage.From(result.Usage)));
        }

        var prepared = await ask.PrepareAsync(request, context.RequestAborted);
        await StreamAsync(context, ask, prepared, metrics);
        return Results.Empty;
    }

    /// <summary>"token" events with {"text": piece}, then one "done" event with the citations.</summary>
    private static async Task StreamAsync(HttpContext context, AskService ask, AskContext prepared, ApiMetrics metrics)
    {
        var cancellationToken = context.RequestAborted;
        var citations = ApiCitation.From(prepared.Citations);
        if (!ask.HasGenerator)
        {
            var notice = await ServerSentEvents.StartAsync(context, ApiJson.Options(context));
            await notice.WriteJsonAsync(new AskStreamEnd(citations, prepared.Mode, AskService.NoModelNotice, null), cancellationToken, "done");
            return;
        }

        await using var pieces = ask.StreamAsync(prepared, null, cancellationToken).GetAsyncEnumerator(cancellationToken);
        bool more = await pieces.MoveNextAsync(); // prefill errors still become a 400 before the stream starts
        var events = await ServerSentEvents.StartAsync(context, ApiJson.Options(context));
        ChatFinishReason? finish = null;
        for (; more; more = await pieces.MoveNextAsync())
        {
            finish ??= pieces.Current.FinishReason;
            metrics.GeneratedTokens(pieces.Current.Contents.OfType<UsageContent>().FirstOrDefault()?.Details.OutputTokenCount, "ask");
            if (pieces.Current.Text is { Length: > 0 } text)
                await events.WriteJsonAsync(new AskStreamToken(text), cancellationToken, "token");
        }
        var reason = finish == ChatFinishReason.Length ? "length" : "stop";
        await events.WriteJsonAsync(new AskStreamEnd(citations, prepared.Mode, null, reason), cancellationToken, "done");
    }
}
