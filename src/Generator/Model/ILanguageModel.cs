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

    // Serving many sequences at once (see Serving/GenerationScheduler): one batch state whose first sequences
    // are the running ones, sequences copied in when they join and out when they leave. All copies are exact.

    /// <summary>Bytes held by the state's tensors (what keeping it costs).</summary>
    long Bytes { get; }

    /// <summary>
    /// Sequences [<paramref name="start"/>, start + <paramref name="count"/>) as a state that shares this one's
    /// memory: a forward over the slice advances those sequences of this state. Disposing it frees nothing of this one.
    /// </summary>
    IModelState Slice(int start, int count);

    /// <summary>Overwrites sequence <paramref name="sequence"/> with sequence <paramref name="sourceSequence"/> of
    /// <paramref name="source"/> (a state of the same model, on any device).</summary>
    void CopySequence(int sequence, IModelState source, int sourceSequence);

    /// <summary>An independent one-sequence copy of sequence <paramref name="sequence"/> on <paramref name="device"/>
    /// (the model's device to resume it soon, host memory to keep it longer).</summary>
    IModelState CopyOut(int sequence, Device device);
}
