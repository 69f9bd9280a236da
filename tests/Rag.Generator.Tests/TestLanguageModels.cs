using System.Collections.Concurrent;
using Rag.Generator.Model;
using Rag.Generator.Serving;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Tests;

/// <summary>
/// A state that remembers, per sequence, the last token and how many tokens it has read, and whether it was
/// disposed. Slices share the arrays, as a real state's slices share its tensors.
/// </summary>
internal sealed class LastTokenState : IModelState
{
    private readonly long[] _lastToken, _tokensSeen;
    private readonly int _offset;

    public LastTokenState(int batch) : this(new long[batch], new long[batch], 0, batch)
    {
    }

    private LastTokenState(long[] lastToken, long[] tokensSeen, int offset, int batch) =>
        (_lastToken, _tokensSeen, _offset, Batch) = (lastToken, tokensSeen, offset, batch);

    public int Batch { get; }
    public bool Disposed { get; private set; }
    public long Bytes => 2L * sizeof(long) * Batch;

    public ref long LastToken(int sequence) => ref _lastToken[_offset + sequence];
    public ref long TokensSeen(int sequence) => ref _tokensSeen[_offset + sequence];

    public IModelState Expand(int batch)
    {
        var copy = new LastTokenState(batch);
        for (int i = 0; i < batch; i++) copy.CopySequence(i, this, 0);
        return copy;
    }

    public IModelState Slice(int start, int count) => new LastTokenState(_lastToken, _tokensSeen, _offset + start, count);

    public void CopySequence(int sequence, IModelState source, int sourceSequence)
    {
        var from = (LastTokenState)source;
        Assert.False(Disposed || from.Disposed, "copy to or from a disposed state");
        LastToken(sequence) = from.LastToken(sourceSequence);
        TokensSeen(sequence) = from.TokensSeen(sourceSequence);
    }

    public IModelState CopyOut(int sequence, Device device)
    {
        var copy = new LastTokenState(1);
        copy.CopySequence(0, this, sequence);
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
        var logits = new float[s.Batch * VocabSize];
        for (var b = 0; b < s.Batch; b++)
        {
            using var last = tokens[b, -1];
            s.TokensSeen(b) += tokens.shape[1];
            s.LastToken(b) = last.item<long>();
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
        var row = new Random(unchecked(1_000_003 * (int)state.LastToken(sequence) + 17));
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
        var position = (int)(state.TokensSeen(sequence) - promptTokens);
        logits.Clear();
        if (position >= 0) logits[script[Math.Min(position, script.Count - 1)]] = 100;
    }
}

internal static class SchedulerAssert
{
    /// <summary>
    /// Waits for the scheduler to go idle (its step thread ends once no sequence is left), then checks that every
    /// state the model created (each request's prefill state, the batch state) was disposed.
    /// </summary>
    public static async Task AllStatesFreed(GenerationScheduler scheduler, RecordingModel model)
    {
        Assert.True(await Task.Run(() => scheduler.WaitIdle(TimeSpan.FromSeconds(30))), "the scheduler is still running");
        Assert.NotEmpty(model.States);
        Assert.All(model.States, s => Assert.True(s.Disposed));
    }
}
