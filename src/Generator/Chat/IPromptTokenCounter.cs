using Microsoft.Extensions.AI;

namespace Rag.Generator.Chat;

/// <summary>
/// The generator's own count of a prompt, so that callers packing text into a prompt count what the generator
/// will count (its tokenizer, its chat format, every header) and stay within its limit.
/// </summary>
public interface IPromptTokenCounter
{
    /// <summary>The longest prompt the generator accepts (Generator:MaxPromptTokens).</summary>
    int MaxPromptTokens { get; }

    /// <summary>Tokens of <paramref name="messages"/> formatted exactly as the generator will prompt the model.</summary>
    int CountPromptTokens(IEnumerable<ChatMessage> messages);

    /// <summary>Tokens of a piece of text in the generator's vocabulary.</summary>
    int CountTokens(string text);
}
