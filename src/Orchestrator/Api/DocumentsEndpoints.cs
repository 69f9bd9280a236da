using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;
using Rag.Ingest.Jobs;
using Rag.Ingest.Pipeline;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Uploads;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Api;

/// <summary>
/// Documents and ingestion jobs: uploads (files or JSON texts) become jobs on <see cref="IIngestJobQueue"/> (202 + job id);
/// listing, reading and deleting go to the store directly.
/// </summary>
public static class DocumentsEndpoints
{
    public static IEndpointRouteBuilder MapDocuments(this IEndpointRouteBuilder routes)
    {
        var documents = routes.MapGroup("/v1/documents").WithTags("Documents");
        documents.MapPost("", UploadAsync).RequireAuthorization(ApiPolicies.Write)
            .Accepts<UploadDocumentsRequest>("application/json", "multipart/form-data")
            .Produces<JobAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                if (operation.RequestBody?.Content?.TryGetValue("multipart/form-data", out var multipart) == true) multipart.Schema = UploadForm;
                return Task.CompletedTask;
            })
            .WithSummary("Upload files (multipart, with an optional 'tags' field) or JSON texts; ingestion runs as a job.");
        documents.MapGet("", ListAsync).RequireAuthorization(ApiPolicies.Read).ProducesProblem(StatusCodes.Status400BadRequest)
            .WithSummary("List documents (paged).");
        documents.MapGet("/{id}", GetAsync).RequireAuthorization(ApiPolicies.Read).ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("One document, with its chunk count.");
        documents.MapGet("/{id}/chunks/{ordinal:int}", GetChunkAsync).RequireAuthorization(ApiPolicies.Read).ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("One passage of a document by its ordinal (source#ordinal in citations).");
        documents.MapDelete("/{id}", DeleteAsync).RequireAuthorization(ApiPolicies.Write).ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Delete a document and its chunks (and its file, when it was uploaded).");

        routes.MapGet("/v1/jobs/{id}", GetJobAsync).RequireAuthorization(ApiPolicies.Read).WithTags("Documents")
            .Produces<IngestJobInfo>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Status and counts of an ingestion job.");
        return routes;
    }

    /// <summary>The multipart form of an upload: file fields (any field name) and an optional comma-separated 'tags'.</summary>
    private static readonly OpenApiSchema UploadForm = new()
    {
        Type = JsonSchemaType.Object,
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["files"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                Items = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" },
                Description = "The files to ingest; plain file names (no folders, no '..').",
            },
            ["tags"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Tags for every file, comma-separated (the field may repeat)." },
        },
        Required = new HashSet<string> { "files" },
    };

    private static async Task<IResult> UploadAsync(HttpContext context, UploadFolder uploads)
    {
        if (context.RequestServices.GetService<IIngestJobQueue>() is not { } queue) return NoQueue();
        var request = context.Request;
        IngestJobRequest job;
        List<string> created = [];
        if (request.HasFormContentType)
            (job, created) = await SaveFilesAsync(request, uploads);
        else if (request.HasJsonContentType())
            job = ToJob(await ApiJson.ReadAsync<UploadDocumentsRequest>(context));
        else
            throw new ApiRequestException(StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type must be multipart/form-data (files) or application/json (texts); got '{request.ContentType ?? "none"}'.");

        try
        {
            var jobId = await queue.EnqueueAsync(job, context.RequestAborted);
            return TypedResults.Accepted($"/v1/jobs/{jobId}", new JobAccepted(jobId));
        }
        catch
        {
            created.ForEach(uploads.Remove); // no job will read these files
            throw;
        }
    }

    /// <summary>
    /// Checks every name first, then saves the files (content already uploaded resolves to the saved file, so it is
    /// the same document again); a failure leaves none of the files this request created.
    /// </summary>
    private static async Task<(IngestJobRequest Job, List<string> Created)> SaveFilesAsync(HttpRequest request, UploadFolder uploads)
    {
        var cancellationToken = request.HttpContext.RequestAborted;
        var form = await request.ReadFormAsync(cancellationToken);
        if (form.Files.Count == 0) throw new RagInputException("The multipart upload has no files; send each file as a file field.");
        var names = form.Files.Select(f => UploadFileName.Check(f.FileName)).ToList();
        if (names.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
            throw new RagInputException($"File name '{duplicate.Key}' appears more than once in the upload.");

        var paths = new List<string>();
        var created = new List<string>();
        try
        {
            for (int i = 0; i < form.Files.Count; i++)
            {
                await using var content = form.Files[i].OpenReadStream();
                var (path, isNew) = await uploads.SaveAsync(content, names[i], cancellationToken);
                if (isNew) created.Add(path);
                if (!paths.Contains(path)) paths.Add(path);
            }
            return (new IngestJobRequest(paths, [], Tags(form["tags"])), created);
        }
        catch
        {
            created.ForEach(uploads.Remove);
            throw;
        }
    }

    private static IngestJobRequest ToJob(UploadDocumentsRequest body)
    {
        if (body.Documents is not { Count: > 0 }) throw new RagInputException("documents is empty; send at least one {source, text}.");
        var texts = new List<IngestTextItem>();
        for (int i = 0; i < body.Documents.Count; i++)
        {
            var d = body.Documents[i];
            // The pipeline's rules, checked here so the client gets a 400 instead of a job that fails later.
            if (!DocumentRules.IsValid(d.Source, d.Text, out var problem)) throw new RagInputException($"documents[{i}]: {problem}");
            if (texts.Any(t => t.Source == d.Source)) throw new RagInputException($"documents[{i}].source '{d.Source}' appears more than once.");
            texts.Add(new IngestTextItem(d.Source, d.Text, d.Title));
        }
        return new IngestJobRequest([], texts, Tags(body.Tags ?? []));
    }

    /// <summary>Tags as a list, each entry possibly comma-separated ("a,b").</summary>
    private static List<string> Tags(IEnumerable<string?> values) =>
        values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct().ToList();

    private static async Task<IResult> GetJobAsync(string id, HttpContext context)
    {
        if (context.RequestServices.GetService<IIngestJobQueue>() is not { } queue) return NoQueue();
        return await queue.GetAsync(id, context.RequestAborted) is { } job
            ? TypedResults.Ok(job)
            : ApiProblems.NotFound($"Job '{id}' does not exist.");
    }

    private static async Task<Ok<DocumentList>> ListAsync(IDocumentStore store, int? skip, int? take, CancellationToken cancellationToken)
    {
        var page = RequestRules.Page(skip, take);
        var documents = await store.ListDocumentsAsync(page.Skip, page.Take, cancellationToken);
        return TypedResults.Ok(new DocumentList(documents, page.Skip, page.Take));
    }

    private static async Task<Results<Ok<DocumentInfo>, ProblemHttpResult>> GetAsync(string id, IDocumentStore store, CancellationToken cancellationToken) =>
        await store.GetDocumentAsync(id, cancellationToken) is { } document
            ? TypedResults.Ok(document)
            : ApiProblems.NotFound($"Document '{id}' does not exist.");

    private static async Task<Results<Ok<ApiChunk>, ProblemHttpResult>> GetChunkAsync(string id, int ordinal, IDocumentStore store, CancellationToken cancellationToken)
    {
        if (await store.GetDocumentAsync(id, cancellationToken) is null) return ApiProblems.NotFound($"Document '{id}' does not exist.");
        var chunk = (await store.GetChunksAsync(id, cancellationToken)).FirstOrDefault(c => c.Ordinal == ordinal);
        return chunk is null
            ? ApiProblems.NotFound($"Document '{id}' has no chunk {ordinal}.")
            : TypedResults.Ok(new ApiChunk(chunk.Id, chunk.DocumentId, chunk.Ordinal, chunk.Text, chunk.TokenCount));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, UploadFolder uploads, CancellationToken cancellationToken) =>
        await uploads.DeleteDocumentAsync(id, cancellationToken)
            ? TypedResults.NoContent()
            : ApiProblems.NotFound($"Document '{id}' does not exist.");

    private static ProblemHttpResult NoQueue() =>
        ApiProblems.Unavailable("No ingestion job queue is registered in this build (IIngestJobQueue); use `rag ingest` meanwhile.");
}
