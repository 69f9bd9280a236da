using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Rag.Generator.Hub;

namespace Rag.Generator.Tests;

/// <summary>
/// A loopback server that serves files in the hub's URL layout as the hub does: {repository}/resolve/main/{file}
/// answers 302 with the file's SHA-256 in X-Linked-ETag and a Location on a storage path, which serves the bytes
/// (Content-Length, Accept-Ranges, an ETag that is not a SHA-256) and honours Range requests. It can be told to cut
/// a transfer short or to announce a wrong checksum.
/// </summary>
internal sealed class LocalHub : IDisposable
{
    private const string StoragePrefix = "/storage";

    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, byte[]> _files = [];
    private readonly Task _loop;

    public LocalHub()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri Endpoint { get; }

    /// <summary>Bytes after which the next response is cut (the connection aborted); null = whole files.</summary>
    public long? CutAfter { get; set; }

    public string? AnnouncedSha256 { get; set; }

    public List<string?> RangeHeaders { get; } = [];

    public void Serve(HubFile file, byte[] content) => _files[$"/{file.Repository}/resolve/main/{file.File}"] = content;

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            Respond(context);
        }
    }

    private void Respond(HttpListenerContext context)
    {
        var response = context.Response;
        var path = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath);
        bool storage = path.StartsWith(StoragePrefix, StringComparison.Ordinal);
        if (!_files.TryGetValue(storage ? path[StoragePrefix.Length..] : path, out var content))
        {
            response.StatusCode = 404;
            response.Close();
            return;
        }
        if (!storage)
        {
            response.StatusCode = 302;
            response.Headers["X-Linked-ETag"] = $"\"{AnnouncedSha256 ?? Convert.ToHexStringLower(SHA256.HashData(content))}\"";
            response.RedirectLocation = StoragePrefix + context.Request.Url.AbsolutePath;
            response.Close();
            return;
        }
        var range = context.Request.Headers["Range"];
        lock (RangeHeaders) RangeHeaders.Add(range);
        long start = range is { } r && r.StartsWith("bytes=", StringComparison.Ordinal) ? long.Parse(r[6..].TrimEnd('-')) : 0;
        response.Headers["ETag"] = "\"storage-etag\"";
        response.Headers["Accept-Ranges"] = "bytes";
        if (start > 0)
        {
            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {start}-{content.Length - 1}/{content.Length}";
        }
        response.ContentLength64 = content.Length - start;
        try
        {
            if (CutAfter is { } cut)
            {
                CutAfter = null;
                response.OutputStream.Write(content, (int)start, (int)Math.Min(cut, content.Length - start));
                response.OutputStream.Flush();
                response.Abort();
                return;
            }
            response.OutputStream.Write(content, (int)start, (int)(content.Length - start));
            response.Close();
        }
        catch (HttpListenerException)
        {
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}

public class ModelPullTests
{
    private static readonly byte[] Model = File.ReadAllBytes(CheckpointFiles.FixturePth);
    private static readonly byte[] Vocabulary = File.ReadAllBytes(TestData.Path("rwkv_vocab_v20230424.txt"));
    private const string Name = "rwkv7-g1-0.1b";

    /// <summary>As `rag model pull` makes it: redirects are followed by the downloader, which reads the checksum on them.</summary>
    private static HttpClient Http() => new(new SocketsHttpHandler { AllowAutoRedirect = false });

    private static (LocalHub Hub, ModelStore Store) Setup()
    {
        var hub = new LocalHub();
        hub.Serve(PublishedModels.ByName[Name], Model);
        hub.Serve(PublishedModels.Vocabulary, Vocabulary);
        return (hub, new ModelStore(Scratch.Folder("models-")));
    }

    private sealed class Recorder : IProgress<DownloadProgress>
    {
        public List<DownloadProgress> Reports { get; } = [];

        public void Report(DownloadProgress value)
        {
            lock (Reports) Reports.Add(value);
        }
    }

    [Fact]
    public async Task A_published_name_is_pulled_with_progress_and_the_vocabulary_and_then_resolves()
    {
        var (hub, store) = Setup();
        using var _ = hub;
        using var http = Http();
        var progress = new Recorder();

        var path = await store.PullAsync(Name, new ModelDownloader(http), hub.Endpoint, progress);

        Assert.Equal(Model, await File.ReadAllBytesAsync(path));
        Assert.Equal(Vocabulary, await File.ReadAllBytesAsync(store.VocabularyPath));
        var modelReports = progress.Reports.Where(p => p.File == Path.GetFileName(path)).ToList();
        Assert.Equal(Model.Length, modelReports[^1].Done);
        Assert.All(modelReports, p => Assert.Equal(Model.Length, p.Total));
        Assert.Equal(modelReports.Select(p => p.Done).Order(), modelReports.Select(p => p.Done));
        Assert.Equal(path, store.ResolveModel(Name));
        Assert.Equal(store.VocabularyPath, store.ResolveVocabulary(""));
        var listed = Assert.Single(store.List());
        Assert.Equal((Name, (long)Model.Length), (listed.Name, listed.Bytes));
    }

    [Fact]
    public async Task A_cut_connection_leaves_a_partial_file_that_the_next_pull_resumes_with_a_range_request()
    {
        var (hub, store) = Setup();
        using var _ = hub;
        using var http = Http();
        hub.CutAfter = Model.Length / 3;

        var e = await Assert.ThrowsAsync<ModelDownloadException>(() => store.PullAsync(Name, new ModelDownloader(http), hub.Endpoint));
        Assert.Contains("run the same command again to resume", e.Message);
        var partial = Path.Combine(store.Directory, PublishedModels.ByName[Name].File + ModelDownloader.PartialSuffix);
        long kept = new FileInfo(partial).Length;
        Assert.InRange(kept, 1, Model.Length - 1);
        Assert.Empty(store.List());

        var path = await store.PullAsync(Name, new ModelDownloader(http), hub.Endpoint);

        Assert.Equal($"bytes={kept}-", hub.RangeHeaders[1]);
        Assert.Equal(Model, await File.ReadAllBytesAsync(path));
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public async Task A_checksum_mismatch_is_refused_and_nothing_is_left_that_looks_like_a_model()
    {
        var (hub, store) = Setup();
        using var _ = hub;
        using var http = Http();
        hub.AnnouncedSha256 = new string('0', 64);

        var e = await Assert.ThrowsAsync<ModelDownloadException>(() => store.PullAsync(Name, new ModelDownloader(http), hub.Endpoint));

        Assert.Contains("SHA-256", e.Message);
        Assert.Contains(new string('0', 64), e.Message);
        Assert.Empty(Directory.GetFiles(store.Directory));
    }

    [Fact]
    public async Task Offline_is_one_clear_error()
    {
        var (hub, store) = Setup();
        var endpoint = hub.Endpoint;
        hub.Dispose(); // nothing listens there any more
        using var http = Http();

        var e = await Assert.ThrowsAsync<ModelDownloadException>(() => store.PullAsync(Name, new ModelDownloader(http), endpoint));

        Assert.Contains("Cannot reach 127.0.0.1", e.Message);
        Assert.Contains("offline", e.Message);
    }

    [Fact]
    public void An_unknown_name_lists_the_known_ones_and_an_unpulled_model_says_how_to_pull_it()
    {
        var store = new ModelStore(Scratch.Folder("models-"));
        var e = Assert.Throws<ArgumentException>(() => store.PullAsync("gpt-5", new ModelDownloader(new HttpClient()), PublishedModels.DefaultEndpoint).GetAwaiter().GetResult());
        Assert.Contains("rwkv7-g1-1.5b", e.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => store.ResolveModel(Name));
        Assert.Contains($"rag model pull {Name}", missing.Message);
    }
}
