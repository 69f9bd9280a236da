using Microsoft.Extensions.Options;
using Rag.Retrieval.Qdrant;

namespace Rag.Retrieval.Tests;

/// <summary>
/// A throw-away collection on the Qdrant server named by env QDRANT_URL (QDRANT_API_KEY optional), dropped on dispose.
/// Tests that need it call <see cref="SkipUnlessConfigured"/> first, so without a server they are reported as skipped.
/// </summary>
internal sealed class QdrantLiveCollection : IAsyncDisposable
{
    public const string SkipMessage = "QDRANT_URL not set: Qdrant contract tests skipped";

    private readonly HttpClient _http = new();
    private readonly QdrantOptions _options;

    public QdrantDocumentStore Store { get; }

    public QdrantLiveCollection(int vectorSize)
    {
        _options = new QdrantOptions
        {
            Url = Url ?? throw new InvalidOperationException(SkipMessage),
            ApiKey = Environment.GetEnvironmentVariable("QDRANT_API_KEY"),
            Collection = "rag_test_" + Guid.NewGuid().ToString("N"),
            VectorSize = vectorSize,
        };
        Store = new QdrantDocumentStore(_http, Options.Create(_options));
    }

    private static string? Url => Environment.GetEnvironmentVariable("QDRANT_URL") is { Length: > 0 } url ? url : null;

    public static void SkipUnlessConfigured() => Skip.If(Url is null, SkipMessage);

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"{_options.Url.TrimEnd('/')}/collections/{_options.Collection}");
        if (!string.IsNullOrEmpty(_options.ApiKey)) request.Headers.Add("api-key", _options.ApiKey);
        try
        {
            using var _ = await _http.SendAsync(request);
        }
        catch (HttpRequestException)
        {
            // Server gone: nothing to clean up, and the test's own failure must stay the one reported.
        }
        _http.Dispose();
    }
}
