using System.Net;
using System.Net.Sockets;
using Rag.Orchestrator.Answering;

namespace Rag.Orchestrator.Cli;

/// <summary>
/// The --urls of `rag serve`, checked before the server and its workers start: a malformed address or a port
/// another process holds is one line and exit 2, not a failed host start with its stack trace in the log.
/// </summary>
internal static class ListenAddresses
{
    public static string[] Parse(string urls)
    {
        var addresses = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (addresses.Length == 0) throw new RagInputException("--urls is empty.");
        foreach (var address in addresses)
            RequireFree(address);
        return addresses;
    }

    private static void RequireFree(string address)
    {
        // Kestrel's wildcard hosts (* and +) are not URI hosts; they listen on every interface.
        var parsable = address.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
        if (!Uri.TryCreate(parsable, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new RagInputException($"--urls '{address}' is not an http:// or https:// address (e.g. {ServeCommand.DefaultUrls}).");
        IPAddress? ip = uri.IsLoopback && !IPAddress.TryParse(uri.Host, out _) ? IPAddress.Loopback
            : IPAddress.TryParse(uri.Host.Trim('[', ']'), out var parsed) ? parsed : null;
        if (ip is null || uri.Port == 0) return; // a host name: Kestrel resolves it; nothing to probe here

        var probe = new TcpListener(ip, uri.Port);
        try
        {
            probe.Start();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new RagInputException($"--urls {address}: port {uri.Port} is already in use (another rag serve?); choose another port.");
        }
        catch (SocketException e)
        {
            throw new RagInputException($"--urls {address}: cannot listen there ({e.Message}).");
        }
        finally
        {
            probe.Stop();
        }
    }
}
