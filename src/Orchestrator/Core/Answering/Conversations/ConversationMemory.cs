using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rag.Generator.Chat;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Answering.Conversations;

/// <summary>
/// What the model read in a conversation so far: the generator's messages (with the passages, which the client
/// never sees) and the passages in citation order. Its last message is the user turn of the latest question; the
/// answer to it is the client's to resend.
/// </summary>
public sealed record ConversationRecord(IReadOnlyList<ChatMessage> Prompt, IReadOnlyList<SearchHit> Read);

/// <summary>
/// Recent conversations, keyed by a hash of the messages the client sees (roles and texts, as the chat format
/// normalises them, up to and including the answer): OpenAI clients resend that history with every follow-up,
/// and it finds what the model read behind it. A conversation's record is replaced by its next turn's. Least
/// recently used first out, within Ask:ConversationMemoryBytes.
/// </summary>
/// <remarks>
/// Records (mostly passage text) are kept as UTF-8 JSON in native memory: the managed heap stays flat however many
/// conversations are remembered, and the budget counts the bytes actually held. Thread-safe.
/// </remarks>
public sealed class ConversationMemory(long budgetBytes) : IDisposable
{
    private sealed record Stored(string Key, IntPtr Data, int Length);

    private sealed record Dto(IReadOnlyList<DtoMessage> Prompt, IReadOnlyList<SearchHit> Read);

    private sealed record DtoMessage(string Role, string Text);

    private readonly Dictionary<string, LinkedListNode<Stored>> _byKey = [];
    private readonly LinkedList<Stored> _recent = new();
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
            var json = new byte[node.Value.Length];
            Marshal.Copy(node.Value.Data, json, 0, json.Length);
            var dto = JsonSerializer.Deserialize<Dto>(json)!;
            return new ConversationRecord([.. dto.Prompt.Select(m => new ChatMessage(new ChatRole(m.Role), m.Text))], dto.Read);
        }
    }

    /// <summary>Remembers <paramref name="record"/> under <paramref name="visible"/>; forgets <paramref name="replaces"/>
    /// (the turn it continues), which the conversation has moved on from.</summary>
    public void Remember(IEnumerable<ChatMessage> visible, ConversationRecord record, IEnumerable<ChatMessage>? replaces = null)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new Dto([.. record.Prompt.Select(m => new DtoMessage(m.Role.Value, m.Text))], record.Read));
        var key = Key(visible);
        var previous = replaces is null ? null : Key(replaces);
        lock (_gate)
        {
            if (previous is not null) Forget(previous);
            Forget(key);
            if (json.Length > budgetBytes) return;
            var data = Marshal.AllocHGlobal(json.Length);
            Marshal.Copy(json, 0, data, json.Length);
            _byKey[key] = _recent.AddFirst(new Stored(key, data, json.Length));
            _used += json.Length;
            while (_used > budgetBytes && _recent.Last is { } oldest) Forget(oldest.Value.Key);
        }
    }

    private void Forget(string key)
    {
        if (!_byKey.Remove(key, out var node)) return;
        _recent.Remove(node);
        _used -= node.Value.Length;
        Marshal.FreeHGlobal(node.Value.Data);
    }

    private static string Key(IEnumerable<ChatMessage> visible)
    {
        var text = new StringBuilder();
        foreach (var message in visible)
            text.Append(message.Role.Value).Append('\0').Append(ChatPromptFormatter.NormalizeContent(message.Text)).Append('\0');
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public void Dispose()
    {
        lock (_gate)
        {
            while (_recent.First is { } first) Forget(first.Value.Key);
        }
    }
}
