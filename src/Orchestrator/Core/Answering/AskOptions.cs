namespace Rag.Orchestrator.Answering;

/// <summary>Limits and defaults of the ask pipeline (section "Ask").</summary>
public sealed class AskOptions
{
    public const string Section = "Ask";

    /// <summary>Passages retrieved when the caller names no k.</summary>
    public int DefaultK { get; set; } = 64;

    /// <summary>The largest k a caller may ask for.</summary>
    public int MaxK { get; set; } = 1024;

    /// <summary>Longest accepted question, in characters.</summary>
    public int MaxQuestionChars { get; set; } = 4000;

    /// <summary>Tokens of passages packed into one prompt, filled in rank order.</summary>
    public int PromptTokenBudget { get; set; } = 131_072;

    /// <summary>Memory for what recent conversations read (their passages), so a follow-up retrieves only new ones.</summary>
    public long ConversationMemoryBytes { get; set; } = 256L << 20;
}
