using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace Rag.Generator.Chat;

/// <summary>
/// The RWKV World / G1 chat format (BlinkDL's model cards and ChatRWKV API_DEMO_CHAT.py):
/// <code>
/// System: …
///
/// User: …
///
/// Assistant: …
///
/// User: …
///
/// Assistant:
/// </code>
/// A blank line separates turns, so it must not occur inside one: message text is trimmed and any run of
/// newlines inside it collapses to one "\n", as the reference demos do. The prompt ends with "Assistant:" and
/// no space, because the model's first token carries the space: the G1 model card's no-think chat prompt.
/// With thinking, it ends with "Assistant: &lt;think" (the card's think-mode prompt): the model completes the tag,
/// reasons, closes with "&lt;/think&gt;" and answers.
/// </summary>
public static partial class ChatPromptFormatter
{
    /// <summary>Separates turns; the model ends its turn by writing it.</summary>
    public const string TurnSeparator = "\n\n";

    public const string AssistantPrefix = "Assistant:";

    /// <summary>What the answer turn starts with when the model is asked to think first (the tag is left open for the model).</summary>
    public const string ThinkingPrefix = AssistantPrefix + " <think";

    /// <summary>Formats a conversation, optionally led by extra system <paramref name="instructions"/>.</summary>
    /// <param name="thinking">End with the think-mode answer turn instead of the no-think one.</param>
    /// <exception cref="ArgumentException">No messages, or a message whose role has no place in the format (e.g. tool).</exception>
    public static string Format(IEnumerable<ChatMessage> messages, string? instructions = null, bool thinking = false)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages.ToList();
        if (list.Count == 0) throw new ArgumentException("A chat needs at least one message.", nameof(messages));

        var prompt = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(instructions)) AppendTurn(prompt, "System", instructions);
        foreach (var message in list)
        {
            var text = NormalizeContent(message.Text);
            if (text.Length > 0) AppendTurn(prompt, RoleName(message.Role), text);
        }
        return prompt.Append(thinking ? ThinkingPrefix : AssistantPrefix).ToString();
    }

    /// <summary>Trims the text, turns "\r\n" into "\n" and collapses every run of newlines into one.</summary>
    public static string NormalizeContent(string? text) =>
        NewlineRun().Replace((text ?? "").Replace("\r\n", "\n").Trim(), "\n");

    private static void AppendTurn(StringBuilder prompt, string role, string text) =>
        prompt.Append(role).Append(": ").Append(NormalizeContent(text)).Append(TurnSeparator);

    private static string RoleName(ChatRole role)
    {
        if (role == ChatRole.System) return "System";
        if (role == ChatRole.User) return "User";
        if (role == ChatRole.Assistant) return "Assistant";
        throw new ArgumentException($"Chat role '{role}' is not supported by the RWKV chat format (system, user, assistant).", "messages");
    }

    [GeneratedRegex(@"\n+")]
    private static partial Regex NewlineRun();
}
