using System.Collections.Concurrent;
using Rag.Generator.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Tests;

/// <summary>A state that remembers the last token of each sequence and whether it was disposed.</summary>
internal sealed class LastTokenState(int batch) : IModelState
{
    public int Batch { get; } = batch;
    public long[] LastToken { get; } = new long[batch];
    public long TokensSeen { get; set; }
    public bool Disposed { get; private set; }

    public IModelState Expand(int batch)
    {
        var copy = new LastTokenState(batch) { TokensSeen = TokensSeen };
        Array.Fill(copy.LastToken, LastToken[0]);
        return copy;
    }

    public void Dispose() => Disposed = true;
}

/// <summary>Test double of <see cref="ILanguageModel"/>: records states and forward calls.</summary>
internal abstract class RecordingModel : ILanguageModel
{
    public ConcurrentQueue<LastTokenState> States { get; } = new();
    public ConcurrentQueue<long> ForwardLengths { get; } = new();

    public abstract int VocabSize { get; }
    public Device Device => torch.CPU;

    public IModelState CreateState(int batch = 1)
    {
        var state = new LastTokenState(batch);
        States.Enqueue(state);
        return state;
    }

    public Tensor Forward(Tensor tokens, IModelState state)
    {
        var s = (LastTokenState)state;
        Assert.False(s.Disposed, "forward on a disposed state");
        ForwardLengths.Enqueue(tokens.shape[1]);
        s.TokensSeen += tokens.shape[1];
        var logits = new float[s.Batch * VocabSize];
        for (var b = 0; b < s.Batch; b++)
        {
            using var last = tokens[b, -1];
            s.LastToken[b] = last.item<long>();
            NextLogits(s, b, logits.AsSpan(b * VocabSize, VocabSize));
        }
        return torch.tensor(logits, [s.Batch, VocabSize]);
    }

    protected abstract void NextLogits(LastTokenState state, int sequence, Span<float> logits);

    public void Dispose()
    {
    }
}

/// <summary>
/// Logits depend only on the last token, like a fixed random bigram table over the padded World vocabulary
/// (65536), with each row drawn from a generator seeded by the token, so the table needs no memory.
/// </summary>
internal sealed class BigramTestModel : RecordingModel
{
    public override int VocabSize => 65536;

    protected override void NextLogits(LastTokenState state, int sequence, Span<float> logits)
    {
        var row = new Random(unchecked(1_000_003 * (int)state.LastToken[sequence] + 17));
        for (var i = 0; i < logits.Length; i++) logits[i] = (float)(12 * row.NextDouble());  // peaked enough that the row decides the draw
    }
}

/// <summary>
/// Puts almost all probability on a scripted continuation: after the prompt's <paramref name="promptTokens"/>
/// tokens it predicts script[0], after each further token the next script token (the last one repeats).
/// </summary>
internal sealed class ScriptedTestModel(IReadOnlyList<int> script, int promptTokens) : RecordingModel
{
    public override int VocabSize => 65536;

    protected override void NextLogits(LastTokenState state, int sequence, Span<float> logits)
    {
        var position = (int)(state.TokensSeen - promptTokens);
        logits.Clear();
        if (position >= 0) logits[script[Math.Min(position, script.Count - 1)]] = 100;
    }
}
