namespace Rag.Generator.Generation;

/// <summary>Why a generation ended.</summary>
public enum FinishReason
{
    /// <summary>A stop sequence was met, or the model produced end of text.</summary>
    Stop,

    /// <summary>The token limit was reached.</summary>
    Length,
}
