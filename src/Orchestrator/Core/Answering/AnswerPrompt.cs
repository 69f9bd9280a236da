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
/// The prompt of an answer, laid out for a reader that reads once (an RNN): the question first, so the model reads
/// the passages knowing what to keep; the numbered passages; the question again; then the answer turn. The model
/// is told to cite markers, and the markers map back to <see cref="Citation"/>s (marker n = rank n).
/// </summary>
/// <remarks>
/// Documents run from the least to the best ranked (each document's passages stay in reading order), so the best
/// evidence is read last. RWKV's state decays every step
/// (each channel is multiplied by a w in (0, 1) per token), so the text read last is held most faithfully, while
/// text read hundreds of passages earlier has been partly overwritten; putting the best evidence next to the repeated
/// question is what the recurrence favours. (A transformer can look back at any position; RWKV cannot.)
/// </remarks>
public static class AnswerPrompt
{
    public const string Instructions =
        "You answer questions using only the numbered passages the user gives you. " +
        "Cite the passages you use with their markers, like [1] or [2][5]. " +
        "If the passages do not contain the answer, say that you do not know.";

    private const int SnippetChars = 240;

    public static IReadOnlyList<Citation> Cite(IReadOnlyList<SearchHit> passages) =>
        passages.Select((hit, i) => new Citation(i + 1, hit.DocumentId, hit.ChunkId, hit.Source, hit.Title, hit.Ordinal, hit.Score, Snippet(hit.Text))).ToList();

    /// <param name="passages">In rank order, best first; they are numbered in that order.</param>
    /// <param name="history">Earlier turns of a conversation, placed between the instructions and the question.</param>
    public static IList<ChatMessage> Build(string question, IReadOnlyList<SearchHit> passages, IReadOnlyList<ChatMessage>? history = null) =>
        [new ChatMessage(ChatRole.System, Instructions), .. history ?? [], UserTurn(question, passages, firstNumber: 1)];

    /// <summary>
    /// The user turn of a question: the question, its passages numbered from <paramref name="firstNumber"/> on (a
    /// follow-up continues the conversation's numbering, so earlier markers keep their meaning), the question again.
    /// </summary>
    public static ChatMessage UserTurn(string question, IReadOnlyList<SearchHit> passages, int firstNumber)
    {
        var q = question.Trim();
        var user = new StringBuilder("Question: ").Append(q).Append('\n');
        if (passages.Count == 0 && firstNumber > 1) return new ChatMessage(ChatRole.User, user.ToString().TrimEnd());
        user.Append("Passages:\n");
        var documents = passages.Select((hit, i) => (Hit: hit, Number: firstNumber + i)).GroupBy(p => p.Hit.DocumentId, StringComparer.Ordinal).Reverse();
        foreach (var (hit, number) in documents.SelectMany(d => d)) user.Append(Passage(number, hit));
        user.Append("Question: ").Append(q);
        return new ChatMessage(ChatRole.User, user.ToString());
    }

    /// <summary>One passage as it appears in the prompt: marker, title, text.</summary>
    public static string Passage(int number, SearchHit hit) =>
        $"[{number}] {hit.Title ?? Path.GetFileName(hit.Source)}\n{hit.Text.Trim()}\n";

    private static string Snippet(string text)
    {
        var flat = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= SnippetChars ? flat : flat[..SnippetChars].TrimEnd() + "…";
    }
}
