using static TorchSharp.torch;

namespace Rag.Generator.Checkpoints;

/// <summary>
/// A checkpoint seen under the x070 names the model reads (<c>emb.weight</c>, <c>blocks.N.att.*</c>, ...):
/// wrapper prefixes that training tools add are stripped, and files of another layout or another RWKV-7
/// variant are refused with a message that names it, before any tensor is read.
/// </summary>
public sealed class Rwkv7Checkpoint : CheckpointReader
{
    // torch.compile (_orig_mod.), DistributedDataParallel and DeepSpeed (module.), Lightning Fabric (_forward_module.).
    private static readonly string[] WrapperPrefixes = ["_orig_mod.", "module.", "_forward_module."];

    private readonly CheckpointReader _inner;
    private readonly Dictionary<string, string> _storedNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorInfo> _tensors = new(StringComparer.Ordinal);

    /// <summary>Takes ownership of <paramref name="inner"/>.</summary>
    public Rwkv7Checkpoint(CheckpointReader inner) : base(inner.Path)
    {
        _inner = inner;
        foreach (var (stored, info) in inner.Tensors)
        {
            var name = StripWrappers(stored);
            if (!_storedNames.TryAdd(name, stored))
                throw new CheckpointFormatException(Path, $"has both '{_storedNames[name]}' and '{stored}', which name the same tensor once wrapper prefixes are removed");
            _tensors[name] = info;
        }
        RefuseOtherLayouts(_tensors.Keys, Path);
    }

    /// <summary>Opens <paramref name="path"/> (.pth or .safetensors) under x070 names.</summary>
    public static Rwkv7Checkpoint Open(string path)
    {
        var reader = Checkpoint.Open(path);
        try
        {
            return new Rwkv7Checkpoint(reader);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    public override IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;

    public override Tensor Read(string name) => _inner.Read(_storedNames[name]);

    public override void Dispose()
    {
        _inner.Dispose();
        base.Dispose();
    }

    private static string StripWrappers(string name)
    {
        for (bool stripped = true; stripped;)
        {
            stripped = false;
            foreach (var prefix in WrapperPrefixes)
            {
                if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                name = name[prefix.Length..];
                stripped = true;
            }
        }
        return name;
    }

    /// <summary>
    /// RWKV-7a (DeepEmbed: <c>ffn.s_emb*</c>, <c>ffn.s0..s2</c>) and 7b (DeepEmbedAttention: <c>qkv.*</c>) files carry
    /// every x070 key as well, so they would load and write wrong text; flash-linear-attention / Hugging Face files
    /// name everything differently. Each is refused with what it is.
    /// </summary>
    private static void RefuseOtherLayouts(IEnumerable<string> names, string path)
    {
        var keys = names.ToList();
        if (keys.FirstOrDefault(k => k.StartsWith("model.layers.", StringComparison.Ordinal) || k.StartsWith("model.embeddings.", StringComparison.Ordinal)
                                     || k == "lm_head.weight") is { } fla)
            throw new CheckpointFormatException(path,
                $"is keyed the flash-linear-attention / Hugging Face way ('{fla}'); Rag reads BlinkDL's RWKV-7 x070 layout " +
                "(emb.weight, blocks.N.att.*, head.weight): use the .pth published in BlinkDL/rwkv7-g1 or BlinkDL/rwkv-7-world (see `rag model pull`)");
        if (keys.FirstOrDefault(k => k.Contains(".qkv.", StringComparison.Ordinal)) is { } b)
            throw new CheckpointFormatException(path, $"this is an RWKV-7b checkpoint (DeepEmbedAttention; key '{b}'); Rag runs x070 (RWKV-7) checkpoints only");
        if (keys.FirstOrDefault(IsDeepEmbed) is { } a)
            throw new CheckpointFormatException(path, $"this is an RWKV-7a checkpoint (DeepEmbed; key '{a}'); Rag runs x070 (RWKV-7) checkpoints only");
    }

    private static bool IsDeepEmbed(string key)
    {
        var parts = key.Split('.');
        return parts.Length >= 4 && parts[0] == "blocks" && parts[2] == "ffn"
               && (parts[3].StartsWith("s_emb", StringComparison.Ordinal) || parts[3] is "s0" or "s1" or "s2");
    }
}
