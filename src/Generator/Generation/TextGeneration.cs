namespace Rag.Generator.Generation;

/// <summary>
/// One generation: enumerate it (once) for the text pieces; when the enumeration has ended, the token counts
/// and the finish reason are set. Cancelling the enumeration ends it with <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class TextGeneration : IAsyncEnumerable<string>
{
    private readonly Func<TextGeneration, CancellationToken, IAsyncEnumerable<string>> _run;
    private int _started;

    internal TextGeneration(int promptTokenCount, Func<TextGeneration, CancellationToken, IAsyncEnumerable<string>> run)
    {
        PromptTokenCount = promptTokenCount;
        _run = run;
    }

    public int PromptTokenCount { get; }

    /// <summary>Prompt tokens not prefilled because the generation resumed from a kept state (set when prefill ends).</summary>
    public int CachedPromptTokenCount { get; internal set; }

    /// <summary>Tokens generated so far (an end-of-text token counts).</summary>
    public int CompletionTokenCount { get; internal set; }

    /// <summary>When finished: the tokens the model read (prompt, then the reply as fed back), whose state may be kept.</summary>
    internal int[]? ReadTokens { get; set; }

    /// <summary>When finished: the last generated token if it was never fed back (end of text is never kept).</summary>
    internal int? UnreadToken { get; set; }

    /// <summary>Null until the generation has finished normally.</summary>
    public FinishReason? FinishReason { get; internal set; }

    public IAsyncEnumerator<string> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
            throw new InvalidOperationException("A generation can be enumerated only once.");
        return _run(this, cancellationToken).GetAsyncEnumerator(cancellationToken);
    }
}
