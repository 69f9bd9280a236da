using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Rag.Retrieval.Tests;

/// <summary>
/// An HttpMessageHandler that records every request and answers like a Qdrant server would, from canned
/// responses chosen by method and path; <see cref="Respond"/> overrides an answer for one test.
/// </summary>
internal sealed class QdrantTestServer : HttpMessageHandler
{
    public sealed record Recorded(HttpMethod Method, string PathAndQuery, string? ApiKey, string? Body)
    {
        public JsonNode Json => JsonNode.Parse(Body ?? throw new InvalidOperationException($"{Method} {PathAndQuery} had no body"))!;
    }

    private readonly List<Recorded> _requests = [];
    private readonly List<(HttpMethod Method, string Path, Func<Recorded, HttpResponseMessage> Answer)> _overrides = [];

    public IReadOnlyList<Recorded> Requests { get { lock (_requests) return _requests.ToArray(); } }

    public bool CollectionExists { get; set; }

    /// <summary>Dense dimensions the collection reports; creating the collection sets it from the request.</summary>
    public int? DenseSize { get; set; } = 3;

    private string CollectionInfo()
    {
        var vectors = DenseSize is int n ? "{\"dense\":{\"size\":" + n + ",\"distance\":\"Cosine\"}}" : "{}";
        return "{\"status\":\"green\",\"config\":{\"params\":{\"vectors\":" + vectors + ",\"sparse_vectors\":{\"bm25\":{\"modifier\":\"idf\"}}}}}";
    }

    private HttpResponseMessage Create(Recorded request)
    {
        CollectionExists = true;
        DenseSize = request.Json["vectors"]?["dense"]?["size"]?.GetValue<int>();
        return Ok("true");
    }

    public IEnumerable<Recorded> To(HttpMethod method, string pathAndQuery) =>
        Requests.Where(r => r.Method == method && r.PathAndQuery == pathAndQuery);

    /// <summary>Answers matching requests with <paramref name="answer"/> (latest registration wins).</summary>
    public void Respond(HttpMethod method, string path, Func<Recorded, HttpResponseMessage> answer) => _overrides.Insert(0, (method, path, answer));

    public static HttpResponseMessage Ok(string resultJson) => Json(HttpStatusCode.OK, $$$"""{"result":{{{resultJson}}},"status":"ok","time":0.001}""");

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var recorded = new Recorded(request.Method, request.RequestUri!.PathAndQuery,
            request.Headers.TryGetValues("api-key", out var keys) ? keys.Single() : null, body);
        lock (_requests) _requests.Add(recorded);

        var path = request.RequestUri.AbsolutePath;
        var custom = _overrides.FirstOrDefault(o => o.Method == request.Method && o.Path == path);
        if (custom.Answer is not null) return custom.Answer(recorded);
        return (request.Method.Method, path) switch
        {
            ("GET", "/collections/rag") => CollectionExists ? Ok(CollectionInfo())
                : Json(HttpStatusCode.NotFound, """{"status":{"error":"Not found: Collection `rag` doesn't exist!"}}"""),
            ("PUT", "/collections/rag") => Create(recorded),
            ("PUT", "/collections/rag/index") => Ok("""{"operation_id":1,"status":"completed"}"""),
            ("PUT", "/collections/rag/points") => Ok("""{"operation_id":2,"status":"completed"}"""),
            ("POST", "/collections/rag/points/delete") => Ok("""{"operation_id":3,"status":"completed"}"""),
            ("POST", "/collections/rag/points") => Ok("[]"),
            ("POST", "/collections/rag/points/query") => Ok("""{"points":[]}"""),
            ("POST", "/collections/rag/points/scroll") => Ok("""{"points":[],"next_page_offset":null}"""),
            ("GET", "/readyz") => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("all shards are ready") },
            _ => Json(HttpStatusCode.NotFound, $$$"""{"status":{"error":"Not found: {{{path}}}"}}"""),
        };
    }
}
