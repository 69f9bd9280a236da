using Rag.Generator.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Retrieval.Embeddings;

/// <summary>
/// The tensors of a Hugging Face BERT safetensors checkpoint, handed out by name with their shape checked.
/// Task heads (BertForMaskedLM, ...) store the encoder under a <c>bert.</c> prefix, bare BertModel exports do not;
/// both are accepted.
/// </summary>
internal sealed class BertWeights : IDisposable
{
    private const string Probe = "embeddings.word_embeddings.weight";

    private readonly Dictionary<string, Tensor> _tensors;
    private readonly string _prefix;
    private readonly Device _device;

    public string Path { get; }

    private BertWeights(string path, Dictionary<string, Tensor> tensors, string prefix, Device device)
    {
        Path = path;
        _tensors = tensors;
        _prefix = prefix;
        _device = device;
    }

    public static BertWeights Load(string path, Device device)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"BERT checkpoint '{path}' does not exist (expected model.safetensors in the model directory)", path);
        var tensors = SafeTensors.Load(path);
        var prefix = tensors.ContainsKey(Probe) ? "" : tensors.ContainsKey("bert." + Probe) ? "bert." : null;
        if (prefix is null)
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw new CheckpointFormatException(path, $"is not a BERT checkpoint: neither '{Probe}' nor 'bert.{Probe}' is present");
        }
        return new BertWeights(path, tensors, prefix, device);
    }

    /// <summary>The float32 tensor <paramref name="key"/> (without prefix) on the target device, checked against <paramref name="shape"/>.</summary>
    public Tensor Take(string key, params long[] shape)
    {
        if (!_tensors.TryGetValue(_prefix + key, out var stored))
            throw new CheckpointFormatException(Path, $"missing tensor '{_prefix + key}' (expected shape [{string.Join(", ", shape)}])");
        if (!stored.shape.SequenceEqual(shape))
            throw new CheckpointFormatException(Path, $"tensor '{_prefix + key}' has shape [{string.Join(", ", stored.shape)}] but config.json requires [{string.Join(", ", shape)}]");
        // Half-precision exports are widened: the encoder computes in float32 on every device.
        using var converted = stored.to(ScalarType.Float32, _device);
        return converted.detach();
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
