using Rag.Generator.Checkpoints;
using static TorchSharp.torch;

namespace Rag.Generator.Model;

/// <summary>
/// Hands out checkpoint tensors converted to the model's device and dtype, one at a time: each is read from the
/// file, converted, and its stored copy dropped before the next, so loading never holds the file and the model at once.
/// </summary>
internal sealed class ModelWeights(CheckpointReader source, Device device, ScalarType dtype)
{
    public Device Device => device;

    public ScalarType Dtype => dtype;

    /// <summary>The tensor in the model dtype; the caller owns it.</summary>
    public Tensor this[string key] => Converted(key, dtype);

    /// <summary>The tensor in fp32, for parameters of the fp32 parts (decay, WKV output norm).</summary>
    public Tensor Float(string key) => Converted(key, ScalarType.Float32);

    public bool Contains(string key) => source.Tensors.ContainsKey(key);

    private Tensor Converted(string key, ScalarType type)
    {
        using var stored = source.Read(key);
        return stored.to(type, device).DetachFromDisposeScope();
    }
}
