using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using Rag.Generator.Chat;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Answering.Conversations;

/// <summary>
/// What the model read in a conversation so far: the generator's messages (with the passages, which the client
/// never sees) and the passages in citation order. Its last message is the user turn of the latest question; the
/// answer to it is the client's to resend.
/// </summary>
public sealed record ConversationRecord(IReadOnlyList<ChatMessage> Prompt, IReadOnlyList<SearchHit> Read)
{
    /// <summary>Managed memory held, roughly (UTF-16 text).</summary>
    public long Bytes => 2L * (Prompt.Sum(m => (long)m.Text.Length) + Read.Sum(p => (long)p.Text.Length));
}

/// <summary>
/// Recent conversations, keyed by a hash of the messages the client sees (roles and texts, as the chat format
/// normalises them, up to and including the answer): OpenAI clients resend that history with every follow-up,
/// and it finds what the model read behind it. Least recently used first out, within Ask:ConversationMemoryBytes.
/// Thread-safe.
/// </summary>
public sealed class ConversationMemory(long budgetBytes)
{
    private readonly Dictionary<string, LinkedListNode<(string Key, ConversationRecord Record)>> _byKey = [];
    private readonly LinkedList<(string Key, ConversationRecord Record)> _recent = new();
    private readonly Lock _gate = new();
    private long _used;

    public int Count
    {
        get { lock (_gate) return _byKey.Count; }
    }

    public ConversationRecord? Find(IEnumerable<ChatMessage> visible)
    {
        var key = Key(visible);
        lock (_gate)
        {
            if (!_byKey.TryGetValue(key, out var node)) return null;
            _recent.Remove(node);
            _recent.AddFirst(node);
            return node.Value.Record;
        }
    }

    public void Remember(IEnumerable<ChatMessage> visible, ConversationRecord record)
    {
        if (record.Bytes > budgetBytes) return;
        var key = Key(visible);
        lock (_gate)
        {
            if (_byKey.Remove(key, out var old)) Drop(old);
            _byKey[key] = _recent.AddFirst((key, record));
            _used += record.Bytes;
            while (_used > budgetBytes && _recent.Last is { } oldest)
            {
                _byKey.Remove(oldest.Value.Key);
                Drop(oldest);
            }
        }
    }

    private void Drop(LinkedListNode<(string Key, ConversationRecord Record)> node)
    {
        _recent.Remove(node);
        _used -= node.Value.Record.Bytes;
    }

    private static string Key(IEnumerable<ChatMessage> visible)
    {
        var text = new StringBuilder();
        foreach (var message in visible)
            text.Append(message.Role.Value).Append('\0').Append(ChatPromptFormatter.NormalizeContent(message.Text)).Append('\0');
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
