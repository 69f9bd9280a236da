using Microsoft.Extensions.Options;
using Rag.Generator.Generation;

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

    /// <summary>
    /// Tokens of passages packed into one prompt, filled in rank order; at most Generator:MaxPromptTokens, and with a
    /// generator configured, whatever that leaves after the rest of the prompt (counted by the generator's tokenizer).
    /// </summary>
    public int PromptTokenBudget { get; set; } = 131_072;

    /// <summary>Memory for what recent conversations read (their passages), so a follow-up retrieves only new ones.</summary>
    public long ConversationMemoryBytes { get; set; } = 256L << 20;

    /// <summary>
    /// The most new passages a remembered follow-up appends: the best-ranked retrieved ones the conversation has not
    /// read, packed within the budget (0 to MaxK; a request may set its own). The follow-up resumes a state that has
    /// already read the first turn's k passages, so the few best unseen ones carry what the new question adds, at
    /// about 1k tokens instead of k × 256.
    /// </summary>
    public int FollowUpPassages { get; set; } = 4;
}

/// <summary>
/// The passage budget against the generator's prompt limit (run at start). It reads the Generator settings as
/// bound, not as validated: broken Generator settings are reported where the generator is used, and must not stop
/// retrieval, which needs no generator.
/// </summary>
public sealed class AskOptionsValidator(GeneratorOptions generator) : IValidateOptions<AskOptions>
{
    public ValidateOptionsResult Validate(string? name, AskOptions options)
    {
        var problems = new List<string>();
        if (options.PromptTokenBudget < 1) problems.Add($"{AskOptions.Section}:PromptTokenBudget {options.PromptTokenBudget} must be >= 1.");
        if (options.FollowUpPassages < 0 || options.FollowUpPassages > options.MaxK)
            problems.Add($"{AskOptions.Section}:FollowUpPassages {options.FollowUpPassages} must be between 0 and {AskOptions.Section}:MaxK {options.MaxK}.");
        int maxPrompt = generator.MaxPromptTokens;
        if (options.PromptTokenBudget > maxPrompt)
            problems.Add($"{AskOptions.Section}:PromptTokenBudget {options.PromptTokenBudget} exceeds {GeneratorOptions.SectionName}:MaxPromptTokens {maxPrompt}: a packed prompt could never be generated from.");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
