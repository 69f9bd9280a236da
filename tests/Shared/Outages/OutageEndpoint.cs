namespace Rag.Tests;

/// <summary>
/// The Qdrant an outage test puts its proxy in front of: <see cref="Fake"/> (in memory, always) or <see cref="Live"/>
/// (the server named by env QDRANT_URL, QDRANT_API_KEY optional; the test is skipped without it). Each test gets its
/// own collection; a live one is dropped on dispose.
/// </summary>
public sealed class OutageEndpoint : IAsyncDisposable
{
    public const string Fake = "fake";
    public const string Live = "live";

    /// <summary>Theory data: every outage test runs against both.</summary>
    public static TheoryData<string> Kinds => new() { Fake, Live };

    private OutageEndpoint(Uri url, string? apiKey, FakeQdrantServer? server)
    {
        Url = url;
        ApiKey = apiKey;
        Server = server;
    }

    public Uri Url { get; }

    public string? ApiKey { get; }

    public string Collection { get; } = "rag_outage_" + Guid.NewGuid().ToString("N");

    /// <summary>The in-memory server, whose raw points a test may inspect; null for a live Qdrant.</summary>
    public FakeQdrantServer? Server { get; }

    public static OutageEndpoint Start(string kind)
    {
        if (kind == Fake)
        {
            var server = new FakeQdrantServer();
            return new OutageEndpoint(server.Url, null, server);
        }
        string? url = Environment.GetEnvironmentVariable("QDRANT_URL");
        Skip.If(string.IsNullOrEmpty(url), "QDRANT_URL not set: outage test against a live Qdrant skipped (it ran against the in-memory server)");
        return new OutageEndpoint(new Uri(url!), Environment.GetEnvironmentVariable("QDRANT_API_KEY"), null);
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
        {
            Server.Dispose();
            return;
        }
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(Url, "collections/" + Collection));
        if (!string.IsNullOrEmpty(ApiKey)) request.Headers.Add("api-key", ApiKey);
        try
        {
            using var _ = await http.SendAsync(request);
        }
        catch (HttpRequestException)
        {
            // Server gone: nothing to clean up, and the test's own failure must stay the one reported.
        }
    }
}
