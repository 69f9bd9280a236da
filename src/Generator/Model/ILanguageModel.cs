using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Model;

/// <summary>
/// A recurrent language model: prefill a prompt into a state, then decode one token at a time from it.
/// The state has a constant size whatever the prompt length (RWKV-7: per layer two token-shift vectors
/// and an H×N×N WKV matrix).
/// </summary>
public interface ILanguageModel : IDisposable
{
    int VocabSize { get; }

    Device Device { get; }

    /// <summary>A zero state for <paramref name="batch"/> sequences.</summary>
    IModelState CreateState(int batch = 1);

    /// <summary>
    /// Runs <paramref name="tokens"/> [B, T] (int64) through the model starting from <paramref name="state"/>,
    /// which is advanced in place; returns next-token logits of the last position, [B, V] fp32.
    /// T = 1 is a decode step; longer T is a chunked parallel prefill.
    /// </summary>
    Tensor Forward(Tensor tokens, IModelState state);
}

/// <summary>The per-sequence recurrent state of a model; disposing frees its tensors.</summary>
public interface IModelState : IDisposable
{
    int Batch { get; }

    /// <summary>
    /// A new state of <paramref name="batch"/> sequences, each a copy of this state's first sequence:
    /// one prompt read once, then several continuations decoded together.
    /// </summary>
    IModelState Expand(int batch);
}
