using System.Net;
using System.Net.Sockets;

namespace Rag.Tests;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of one endpoint, for outage tests. It forwards bytes both ways until told to
/// <see cref="Drop"/> (every open connection is reset and every new one is reset on accept) or to answer late
/// (<see cref="Delay"/> before each chunk sent back to the client), and counts the connections it accepts.
/// </summary>
public sealed class LoopbackTcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<Socket> _open = [];
    private readonly Task _accepting;
    private volatile bool _down;
    private long _delayTicks;
    private int _connections;

    public LoopbackTcpProxy(Uri target)
    {
        _targetHost = target.Host;
        _targetPort = target.Port;
        _listener.Start();
        _accepting = AcceptLoopAsync();
    }

    public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>Connections accepted so far, dropped ones included: each is one attempt of the client.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Held before every chunk forwarded from the endpoint to the client; zero forwards at once.</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
        set => Interlocked.Exchange(ref _delayTicks, value.Ticks);
    }

    /// <summary>The endpoint "goes away": open connections are reset now, new ones as soon as they are accepted.</summary>
    public void Drop()
    {
        _down = true;
        Socket[] open;
        lock (_open) open = [.. _open];
        foreach (Socket socket in open) Reset(socket);
    }

    /// <summary>The endpoint is back: new connections are forwarded again.</summary>
    public void Restore() => _down = false;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            if (_down) Reset(client);
            else _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
        Track(client, upstream, add: true);
        try
        {
            await upstream.ConnectAsync(_targetHost, _targetPort, _stop.Token);
            // Whichever side finishes first ends the connection, as a dying peer would.
            await Task.WhenAny(PumpAsync(client, upstream, delayed: false), PumpAsync(upstream, client, delayed: true));
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            Track(client, upstream, add: false);
            Reset(client);
            Reset(upstream);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool delayed)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0 || _down) return;
                if (delayed && Delay > TimeSpan.Zero) await Task.Delay(Delay, _stop.Token);
                if (_down) return;
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private void Track(Socket client, Socket upstream, bool add)
    {
        lock (_open)
        {
            if (add) { _open.Add(client); _open.Add(upstream); }
            else { _open.Remove(client); _open.Remove(upstream); }
        }
    }

    /// <summary>Closes with RST (linger 0), what a client sees when a server process dies.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Drop();
        _stop.Dispose();
    }
}
