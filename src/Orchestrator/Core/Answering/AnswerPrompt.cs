using System.Text;
using Microsoft.Extensions.AI;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Answering;

/// <summary>A numbered passage as cited in an answer: [Number] Source#Ordinal.</summary>
public sealed record Citation(int Number, string DocumentId, string ChunkId, string Source, string? Title, int Ordinal, double Score, string Snippet)
{
    public string Reference => $"{Source}#{Ordinal}";
}

/// <summary>
/// The prompt of an answer: passages in rank order behind numbered markers, then the question.
/// The model is told to cite markers, and the markers map back to <see cref="Citation"/>s.
/// </summary>
public static class AnswerPrompt
{
    public const string Instructions =
        "You answer questions using only the numbered passages the user gives you. " +
        "Cite the passages you use with their markers, like [1] or [2][5]. " +
        "If the passages do not contain the answer, say that you do not know.";

    private const int SnippetChars = 240;

    public static IReadOnlyList<Citation> Cite(IReadOnlyList<SearchHit> passages) =>
        passages.Select((hit, i) => new Citation(i + 1, hit.DocumentId, hit.ChunkId, hit.Source, hit.Title, hit.Ordinal, hit.Score, Snippet(hit.Text))).ToList();

    public static IList<ChatMessage> Build(string question, IReadOnlyList<SearchHit> passages) =>
        [new ChatMessage(ChatRole.System, Instructions), UserTurn(question, passages, firstNumber: 1)];

    /// <summary>
    /// The user turn of a question: its passages numbered from <paramref name="firstNumber"/> on (a follow-up
    /// continues the conversation's numbering, so earlier markers keep their meaning), then the question.
    /// </summary>
    public static ChatMessage UserTurn(string question, IReadOnlyList<SearchHit> passages, int firstNumber)
    {
        var user = new StringBuilder();
        if (passages.Count > 0 || firstNumber == 1) user.Append("Passages:\n");
        for (int i = 0; i < passages.Count; i++)
        {
            var hit = passages[i];
            user.Append('[').Append(firstNumber + i).Append("] ").Append(hit.Title ?? Path.GetFileName(hit.Source)).Append('\n');
            user.Append(hit.Text.Trim()).Append('\n');
        }
        user.Append("\nQuestion: ").Append(question.Trim());
        return new ChatMessage(ChatRole.User, user.ToString());
    }

    private static string Snippet(string text)
    {
        var flat = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= SnippetChars ? flat : flat[..SnippetChars].TrimEnd() + "…";
    }
}
