namespace Rag.Orchestrator.Api;

/// <summary>Settings of the HTTP API (section "Api"). With no keys configured the API is open.</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>The one index this build serves; keys list the indexes they may use.</summary>
    public const string DefaultIndex = "default";

    public List<ApiKeyOptions> Keys { get; set; } = [];

    /// <summary>Largest request body accepted (uploads included), in bytes.</summary>
    public long MaxBodyBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Ingestion workers hosted inside `rag serve` (more can run as separate `rag worker` processes).</summary>
    public int Workers { get; set; } = 1;
}

/// <summary>One API key: who it is (<see cref="Name"/>, used in logs instead of the key) and what it may do.</summary>
public sealed class ApiKeyOptions
{
    public string Key { get; set; } = "";

    public string Name { get; set; } = "";

    /// <summary>Index names the key may use, or "*" for all; none listed means all.</summary>
    /// <remarks>Empty by default because the configuration binder appends to a pre-filled list.</remarks>
    public List<string> Indexes { get; set; } = [];

    /// <summary>Whether the key may add and delete documents.</summary>
    public bool CanWrite { get; set; }

    public bool CoversIndex(string index) => Indexes.Count == 0 || Indexes.Any(i => i == "*" || string.Equals(i, index, StringComparison.Ordinal));
}
