using Microsoft.Extensions.AI;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Search;

namespace Rag.Orchestrator.Answering.Conversations;

/// <summary>One question of a conversation, ready to generate: the answer context and what to remember after it.</summary>
/// <param name="Visible">The client's messages: the history and the question.</param>
/// <param name="Read">Every passage the conversation has read, in citation order (numbers 1, 2, …).</param>
/// <param name="Continued">The remembered history this turn continues; null when it starts afresh.</param>
public sealed record ConversationTurn(IReadOnlyList<ChatMessage> Visible, AskContext Context, IReadOnlyList<SearchHit> Read, IReadOnlyList<ChatMessage>? Continued);

/// <summary>
/// Incremental retrieval across a conversation. The first question is answered as usual (instructions, passages,
/// question). A follow-up whose history is remembered continues the text the model has already read, exactly:
/// <code>
/// …the previous prompt…Assistant: previous answer
///
/// User: Passages:
/// [n+1] …only passages the conversation has not read yet…
///
/// Question: follow-up
///
/// Assistant:
/// </code>
/// so the generator resumes from the state it kept at the end of the previous answer and reads only the new
/// passages and the question. The new passages are the best-ranked unseen ones, at most Ask:FollowUpPassages (or the
/// request's own count): the state has already read the first turn's k passages, and the few best unseen ones carry
/// what the new question adds, at about 1k tokens instead of another k × 256. Passage numbers continue across turns;
/// a turn's citations are the passages it retrieved and the conversation read, under those numbers.
/// A history the server does not know (another server, or forgotten) is answered as before: the history, then
/// the packed prompt.
/// </summary>
public sealed class ConversationTurns(AskService ask, ConversationMemory memory, Microsoft.Extensions.Options.IOptions<AskOptions> options)
{
    public async Task<ConversationTurn> PrepareAsync(IReadOnlyList<ChatMessage> history, AskRequest request, CancellationToken cancellationToken)
    {
        var question = request.Question;
        int followUpPassages = RequestRules.FollowUpPassages(request.FollowUpPassages, options.Value);
        IReadOnlyList<ChatMessage> visible = [.. history, new ChatMessage(ChatRole.User, question)];
        if (history.Count > 0 && history[^1].Role == ChatRole.Assistant && memory.Find(history) is { } record)
        {
            var retrieved = await ask.RetrieveAsync(request, cancellationToken);
            var seen = record.Read.Select(p => p.ChunkId).ToHashSet();
            var unseen = retrieved.Hits.Where(h => !seen.Contains(h.ChunkId)).ToList();
            var fresh = PassagePacker.Pack(unseen, options.Value.PromptTokenBudget, hit => hit.TokenCount, followUpPassages).Passages.ToList();
            IReadOnlyList<SearchHit> read = [.. record.Read, .. fresh];
            IList<ChatMessage> prompt = [.. record.Prompt, history[^1], AnswerPrompt.UserTurn(question, fresh, record.Read.Count + 1)];
            // Every passage read so far is in the prompt, so the context carries them all (a follow-up may add none);
            // the citations are what this turn retrieved, each under its number in the conversation.
            var found = retrieved.Hits.Select(h => h.ChunkId).ToHashSet();
            var cited = AnswerPrompt.Cite(read).Where(c => found.Contains(c.ChunkId)).ToList();
            return new ConversationTurn(visible, new AskContext(retrieved.Mode, read, cited, prompt), read, Continued: history);
        }
        var prepared = await ask.PrepareAsync(request with { History = history }, cancellationToken);
        return new ConversationTurn(visible, prepared, prepared.Passages, Continued: null);
    }

    /// <summary>After the answer: what the model read, under the history the client will resend with its next question.</summary>
    public void Remember(ConversationTurn turn, string answer) =>
        memory.Remember([.. turn.Visible, new ChatMessage(ChatRole.Assistant, answer)], new ConversationRecord([.. turn.Context.Prompt], turn.Read),
            replaces: turn.Continued);
}
