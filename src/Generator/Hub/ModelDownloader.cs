using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Rag.Generator.Hub;

/// <summary>Bytes of a download so far; <see cref="Total"/> is null when the server does not say.</summary>
public readonly record struct DownloadProgress(string File, long Done, long? Total);

/// <summary>A download that cannot complete; the message says what happened and what to do.</summary>
public sealed class ModelDownloadException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// Downloads one file to a folder the way a hub serves it: into <c>NAME.partial</c>, resumed with an HTTP Range
/// request when a partial file is there, verified against the SHA-256 the hub sends for large (LFS) files in
/// <c>X-Linked-ETag</c> / <c>ETag</c>, and renamed to its final name only once complete and verified, so a
/// broken or wrong download never looks like a model.
/// </summary>
public sealed partial class ModelDownloader(HttpClient http)
{
    public const string PartialSuffix = ".partial";

    private const int BufferSize = 1 << 20;

    /// <summary>Downloads <paramref name="url"/> to <paramref name="target"/> unless it is already there.</summary>
    /// <returns>False when the file was already present.</returns>
    public async Task<bool> DownloadAsync(Uri url, string target, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (File.Exists(target)) return false;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
        var partial = target + PartialSuffix;
        var name = Path.GetFileName(target);
        long offset = File.Exists(partial) ? new FileInfo(partial).Length : 0;

        var (response, announcedSha256) = await GetAsync(url, offset, cancellationToken);
        using var _ = response;
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && offset > 0)
        {
            // The partial file already holds every byte; only the check and the rename are left.
            await FinishAsync(partial, target, announcedSha256, url, cancellationToken);
            return true;
        }
        if (!response.IsSuccessStatusCode)
            throw new ModelDownloadException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}; is the name or URL right?");
        bool resumed = response.StatusCode == HttpStatusCode.PartialContent;
        if (!resumed) offset = 0; // the server ignored the range: start over
        long? total = response.Content.Headers.ContentRange?.Length
                      ?? (response.Content.Headers.ContentLength is { } length ? offset + length : null);
        var expectedSha256 = announcedSha256;

        long done = offset;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await using (var file = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferSize))
            {
                var buffer = new byte[BufferSize];
                progress?.Report(new DownloadProgress(name, done, total));
                for (int read; (read = await body.ReadAsync(buffer, cancellationToken)) > 0;)
                {
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    done += read;
                    progress?.Report(new DownloadProgress(name, done, total));
                }
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException && e is not ModelDownloadException)
        {
            throw new ModelDownloadException(
                $"The download of {name} broke off after {done:N0} of {(total is { } t ? $"{t:N0}" : "?")} bytes ({e.Message}); " +
                $"{Path.GetFileName(partial)} keeps what arrived: run the same command again to resume.", e);
        }
        if (total is { } expectedLength && done != expectedLength)
            throw new ModelDownloadException(
                $"The download of {name} ended after {done:N0} of {expectedLength:N0} bytes; run the same command again to resume.");
        await FinishAsync(partial, target, expectedSha256, url, cancellationToken);
        return true;
    }

    /// <summary>
    /// GET from <paramref name="offset"/>, following redirects here rather than in the handler: the hub announces an
    /// LFS file's SHA-256 on its own redirect response (X-Linked-ETag), not on the storage host's final one.
    /// </summary>
    private async Task<(HttpResponseMessage Response, string? Sha256)> GetAsync(Uri url, long offset, CancellationToken cancellationToken)
    {
        string? sha256 = null;
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
            var response = await SendAsync(request, url, cancellationToken);
            sha256 ??= ExpectedSha256(response);
            if ((int)response.StatusCode is < 300 or >= 400 || response.Headers.Location is null || hop == 10) return (response, sha256);
            url = new Uri(url, response.Headers.Location);
            response.Dispose();
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, Uri url, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException || e.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError)
        {
            throw new ModelDownloadException(
                $"Cannot reach {url.Host} ({e.Message}): this machine looks offline. Pull on a machine with network access and copy " +
                "the models folder over, or set Generator:ModelPath to a checkpoint file.", e);
        }
    }

    private static async Task FinishAsync(string partial, string target, string? expectedSha256, Uri url, CancellationToken cancellationToken)
    {
        if (expectedSha256 is not null)
        {
            string actual;
            await using (var file = File.OpenRead(partial))
                actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
            if (actual != expectedSha256)
            {
                File.Delete(partial);
                throw new ModelDownloadException(
                    $"{Path.GetFileName(target)} from {url} has SHA-256 {actual}, but the server announced {expectedSha256}; " +
                    "the download was discarded. Run the command again; if it fails the same way, the file on the server is not the one announced.");
            }
        }
        File.Move(partial, target);
    }

    /// <summary>The hub names an LFS file's SHA-256 in X-Linked-ETag (its ETag on the final host); small git files have SHA-1 ETags, not checked.</summary>
    private static string? ExpectedSha256(HttpResponseMessage response)
    {
        foreach (var header in new[] { "X-Linked-ETag", "ETag" })
        {
            if (!response.Headers.TryGetValues(header, out var values)) continue;
            var value = values.First().Trim();
            if (value.StartsWith("W/", StringComparison.Ordinal)) value = value[2..];
            value = value.Trim('"').ToLowerInvariant();
            if (Sha256Hex().IsMatch(value)) return value;
        }
        return null;
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();
}
