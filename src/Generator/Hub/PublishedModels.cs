namespace Rag.Generator.Hub;

/// <summary>A file on a Hugging Face style hub: <c>{endpoint}/{Repository}/resolve/main/{File}</c>.</summary>
public sealed record HubFile(string Repository, string File)
{
    public Uri Url(Uri endpoint) => new(endpoint, $"{Repository}/resolve/main/{Uri.EscapeDataString(File)}");
}

/// <summary>
/// The published RWKV-7 x070 checkpoints <c>rag model pull</c> knows by name. File names and repositories are those
/// listed on the model cards' file pages: huggingface.co/BlinkDL/rwkv7-g1 (G1, reasoning chat models) and
/// huggingface.co/BlinkDL/rwkv-7-world (World base models). The World vocabulary is not in those repositories;
/// it is published beside the G1 conversion in fla-hub/rwkv7-1.5B-g1a.
/// </summary>
public static class PublishedModels
{
    public static Uri DefaultEndpoint { get; } = new("https://huggingface.co/");

    public static HubFile Vocabulary { get; } = new("fla-hub/rwkv7-1.5B-g1a", "rwkv_vocab_v20230424.txt");

    public static IReadOnlyDictionary<string, HubFile> ByName { get; } = new Dictionary<string, HubFile>(StringComparer.OrdinalIgnoreCase)
    {
        ["rwkv7-g1-0.1b"] = new("BlinkDL/rwkv7-g1", "rwkv7-g1-0.1b-20250307-ctx4096.pth"),
        ["rwkv7-g1-0.4b"] = new("BlinkDL/rwkv7-g1", "rwkv7-g1-0.4b-20250324-ctx4096.pth"),
        ["rwkv7-g1-1.5b"] = new("BlinkDL/rwkv7-g1", "rwkv7-g1-1.5b-20250429-ctx4096.pth"),
        ["rwkv7-g1-2.9b"] = new("BlinkDL/rwkv7-g1", "rwkv7-g1-2.9b-20250519-ctx4096.pth"),
        ["rwkv7-world-0.1b"] = new("BlinkDL/rwkv-7-world", "RWKV-x070-World-0.1B-v2.8-20241210-ctx4096.pth"),
        ["rwkv7-world-0.4b"] = new("BlinkDL/rwkv-7-world", "RWKV-x070-World-0.4B-v2.9-20250107-ctx4096.pth"),
        ["rwkv7-world-1.5b"] = new("BlinkDL/rwkv-7-world", "RWKV-x070-World-1.5B-v3-20250127-ctx4096.pth"),
        ["rwkv7-world-2.9b"] = new("BlinkDL/rwkv-7-world", "RWKV-x070-World-2.9B-v3-20250211-ctx4096.pth"),
    };
}
