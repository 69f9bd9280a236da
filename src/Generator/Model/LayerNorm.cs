using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Rag.Generator.Model;

/// <summary>LayerNorm over the channel dimension, eps 1e-5 as in the reference.</summary>
internal sealed class LayerNorm(Tensor weight, Tensor bias) : IDisposable
{
    public LayerNorm(ModelWeights weights, string prefix) : this(weights[$"{prefix}.weight"], weights[$"{prefix}.bias"]) { }

    public Tensor Weight => weight;

    public Tensor Bias => bias;

    public Tensor Forward(Tensor x) => F.layer_norm(x, [weight.shape[0]], weight, bias, 1e-5);

    public void Dispose()
    {
        weight.Dispose();
        bias.Dispose();
    }
}
