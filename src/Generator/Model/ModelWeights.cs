using static TorchSharp.torch;

namespace Rag.Generator.Model;

/// <summary>Hands out checkpoint tensors converted to the model's device and dtype.</summary>
internal sealed class ModelWeights(IReadOnlyDictionary<string, Tensor> source, Device device, ScalarType dtype)
{
    public Device Device => device;

    public ScalarType Dtype => dtype;

    /// <summary>The tensor in the model dtype (a new handle: disposing the source afterwards is safe).</summary>
    public Tensor this[string key] => Owned(source[key].to(dtype, device));

    /// <summary>The tensor in fp32, for parameters of the fp32 parts (decay, WKV output norm).</summary>
    public Tensor Float(string key) => Owned(source[key].to(ScalarType.Float32, device));

    public Tensor? Optional(string key) => source.ContainsKey(key) ? this[key] : null;

    private static Tensor Owned(Tensor t) => t.DetachFromDisposeScope();
}
