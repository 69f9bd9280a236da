using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Rag.Tests;

/// <summary>
/// An HTTP server on 127.0.0.1 that keeps points in memory and answers the part of Qdrant's REST API the Qdrant
/// store uses for writes and reads (collections, upsert, retrieve, scroll and delete with must / must_not match
/// filters). Search (points/query) is not modelled: 501. It lets outage tests run over real sockets, with state
/// to check for lost or duplicated writes, where no Qdrant server can be installed.
/// </summary>
public sealed class FakeQdrantServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly SortedDictionary<string, JsonObject> _points = new(StringComparer.Ordinal);
    private readonly Task _serving;
    private JsonObject? _vectors;
    private JsonObject? _sparseVectors;
    private int _writes;

    public FakeQdrantServer()
    {
        // HttpListener cannot bind port 0, so a free port is found first; a clash with another process is retried.
        for (int attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add(Url.ToString());
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                _listener.Prefixes.Clear();
            }
        }
        _serving = ServeAsync();
    }

    public Uri Url { get; private set; }

    /// <summary>Upsert and delete requests answered so far.</summary>
    public int Writes => Volatile.Read(ref _writes);

    /// <summary>Payloads of every stored point, by point id.</summary>
    public IReadOnlyDictionary<string, JsonObject> Points
    {
        get { lock (_points) return _points.ToDictionary(p => p.Key, p => (JsonObject)p.Value["payload"]!.DeepClone()); }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            string body = await new StreamReader(context.Request.InputStream, Encoding.UTF8).ReadToEndAsync();
            HttpStatusCode status;
            string json;
            try
            {
                (status, json) = Handle(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, body.Length == 0 ? null : JsonNode.Parse(body));
            }
            catch (Exception e) when (e is InvalidOperationException or NotSupportedException or FormatException or System.Text.Json.JsonException or NullReferenceException)
            {
                // A request the model does not understand fails loudly, as a 400 naming the problem.
                (status, json) = (HttpStatusCode.BadRequest, Status($"{context.Request.HttpMethod} {context.Request.Url}: {e.Message}"));
            }
            var bytes = Encoding.UTF8.GetBytes(json);
            context.Response.StatusCode = (int)status;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client (or the proxy in front) went away mid-request, as clients do in outage tests.
        }
    }

    private (HttpStatusCode, string) Handle(string method, string path, JsonNode? body)
    {
        if (path == "/readyz") return (HttpStatusCode.OK, "\"all shards are ready\"");
        string[] parts = path.Trim('/').Split('/');
        if (parts.Length < 2 || parts[0] != "collections") return NotFound(path);
        string rest = string.Join('/', parts.Skip(2));
        lock (_points)
        {
            if ((method, rest) == ("PUT", ""))
            {
                _vectors = body?["vectors"]?.DeepClone().AsObject();
                _sparseVectors = body?["sparse_vectors"]?.DeepClone().AsObject();
                return Ok(true);
            }
            if (_sparseVectors is null) return NotFound($"Collection `{parts[1]}` doesn't exist!");
            switch (method, rest)
            {
                case ("GET", ""):
                    return Ok(new JsonObject
                    {
                        ["status"] = "green",
                        ["config"] = new JsonObject { ["params"] = new JsonObject { ["vectors"] = _vectors?.DeepClone() ?? new JsonObject(), ["sparse_vectors"] = _sparseVectors.DeepClone() } },
                    });
                case ("PUT", "index"):
                    return Ok(Completed());
                case ("PUT", "points"):
                    foreach (JsonNode? point in body!["points"]!.AsArray())
                        _points[point!["id"]!.GetValue<string>()] = point.DeepClone().AsObject();
                    _writes++;
                    return Ok(Completed());
                case ("POST", "points"):
                    return Ok(new JsonArray(body!["ids"]!.AsArray().Select(id => _points.GetValueOrDefault(id!.GetValue<string>()))
                        .OfType<JsonObject>().Select(Retrieved).ToArray<JsonNode?>()));
                case ("POST", "points/delete"):
                    foreach (string id in _points.Where(p => Matches(p.Value, body!["filter"]!)).Select(p => p.Key).ToList())
                        _points.Remove(id);
                    _writes++;
                    return Ok(Completed());
                case ("POST", "points/scroll"):
                    return Ok(Scroll(body!));
                default:
                    return (HttpStatusCode.NotImplemented, Status($"{method} {path} is not modelled by the test server"));
            }
        }
    }

    private JsonObject Scroll(JsonNode request)
    {
        int limit = request["limit"]!.GetValue<int>();
        string? offset = request["offset"]?.GetValue<string>();
        var page = _points.Values.Where(p => Matches(p, request["filter"]!))
            .SkipWhile(p => offset is not null && string.CompareOrdinal(p["id"]!.GetValue<string>(), offset) < 0)
            .Take(limit + 1).ToList();
        return new JsonObject
        {
            ["points"] = new JsonArray(page.Take(limit).Select(Retrieved).ToArray<JsonNode?>()),
            ["next_page_offset"] = page.Count > limit ? page[limit]["id"]!.DeepClone() : null,
        };
    }

    private static JsonObject Retrieved(JsonObject point) => new() { ["id"] = point["id"]!.DeepClone(), ["payload"] = point["payload"]!.DeepClone() };

    private static bool Matches(JsonObject point, JsonNode filter)
    {
        var payload = point["payload"]!.AsObject();
        bool All(string clause, bool expected) =>
            filter[clause] is not JsonArray conditions || conditions.All(c => Holds(payload, c!) == expected);
        return All("must", true) && All("must_not", false);
    }

    /// <summary>A keyword condition; on an array field it holds when any element matches, as in Qdrant.</summary>
    private static bool Holds(JsonObject payload, JsonNode condition)
    {
        var match = condition["match"] ?? throw new NotSupportedException($"condition {condition.ToJsonString()} is not modelled by the test server");
        var wanted = match["value"] is { } value
            ? new HashSet<string> { value.GetValue<string>() }
            : match["any"]!.AsArray().Select(a => a!.GetValue<string>()).ToHashSet();
        var field = payload[condition["key"]!.GetValue<string>()];
        IEnumerable<string> values = field switch
        {
            JsonArray array => array.Select(a => a!.GetValue<string>()),
            JsonValue single => [single.GetValue<string>()],
            _ => [],
        };
        return values.Any(wanted.Contains);
    }

    private static JsonObject Completed() => new() { ["operation_id"] = 1, ["status"] = "completed" };

    private static (HttpStatusCode, string) Ok(JsonNode result) =>
        (HttpStatusCode.OK, new JsonObject { ["result"] = result, ["status"] = "ok", ["time"] = 0.001 }.ToJsonString());

    private static (HttpStatusCode, string) NotFound(string what) => (HttpStatusCode.NotFound, Status($"Not found: {what}"));

    private static string Status(string error) => new JsonObject { ["status"] = new JsonObject { ["error"] = error } }.ToJsonString();

    public void Dispose()
    {
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
    }
}
