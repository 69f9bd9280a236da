using Rag.Generator.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Serving;

/// <summary>
/// States of finished generations, keyed by the exact token sequence each has read (prompt, then the answer
/// minus its last token, which was sampled but never fed back). A new prompt that starts with a kept sequence
/// resumes from its state and prefills only the rest: a follow-up turn (OpenAI clients resend the whole history)
/// or another conversation with the same system prompt.
/// </summary>
/// <remarks>
/// Prompts arrive as text, so each entry is also found by text: the decoded text of its ids, and any alias a
/// caller adds (the chat client adds the text the conversation's next prompt will start with, since a client
/// resends a reply trimmed and with undecodable bytes replaced). A text match gives the ids to start the
/// prompt's encoding with, and those ids then match the entry.
/// Least recently used first out, within a byte budget on the model's device; on CUDA, states pushed out of the
/// device's budget spill to host memory (a second budget) before they are dropped. Only hashes and lengths are
/// managed objects: ids and texts live in native memory beside their state and count against the budget, so the
/// managed heap stays flat however full the cache is. Every hash hit is verified, so a match is exact. Thread-safe.
/// </remarks>
public sealed class StateCache(Device device, long deviceBytes, long hostBytes) : IDisposable
{
    /// <summary>A text that leads to an entry, with the ids a prompt starting with it begins with.</summary>
    private sealed record TextKey(Entry Entry, Tensor Text, Tensor Ids, ulong Hash) : IDisposable
    {
        public int Length => (int)Text.shape[0];
        public long Bytes => Text.numel() * sizeof(short) + Ids.numel() * sizeof(int);

        public void Dispose()
        {
            Text.Dispose();
            Ids.Dispose();
        }
    }

    private sealed class Entry(Tensor ids, ulong idsHash)
    {
        public Tensor Ids { get; } = ids;            // int32 [n] on the host
        public ulong IdsHash { get; } = idsHash;
        public List<TextKey> Texts { get; } = [];
        public required IModelState State { get; set; }
        public bool OnHost { get; set; }
        public LinkedListNode<Entry>? Node { get; set; }
        public int Length => (int)Ids.shape[0];
        public long Bytes => State.Bytes + Ids.numel() * sizeof(int) + Texts.Sum(t => t.Bytes);
    }

    private readonly bool _spills = device.type != DeviceType.CPU && hostBytes > 0;
    private readonly Dictionary<(int Length, ulong Hash), Entry> _byIds = [];
    private readonly Dictionary<(int Length, ulong Hash), TextKey> _byText = [];
    private readonly SortedDictionary<int, int> _idLengths = [];   // length → entries of that length
    private readonly SortedDictionary<int, int> _textLengths = [];
    private readonly LinkedList<Entry> _recent = new();            // most recently used first
    private readonly Lock _gate = new();
    private long _deviceUsed, _hostUsed;

    public bool Enabled => deviceBytes > 0;

    public int Count
    {
        get { lock (_gate) return _byIds.Count; }
    }

    /// <summary>Bytes kept on the model's device and in host memory.</summary>
    public (long Device, long Host) Bytes
    {
        get { lock (_gate) return (_deviceUsed, _hostUsed); }
    }

    /// <summary>
    /// Keeps <paramref name="state"/> (one sequence, now owned by the cache) as the state after <paramref name="ids"/>,
    /// whose decoded text is <paramref name="text"/>. Replaces an entry for the same sequence.
    /// </summary>
    public void Add(int[] ids, string text, IModelState state)
    {
        if (!Enabled || ids.Length == 0 || state.Bytes + ids.Length * (long)sizeof(int) > deviceBytes)
        {
            state.Dispose();
            return;
        }
        var entry = new Entry(Native(ids), Fnv<int>(ids)) { State = state };
        lock (_gate)
        {
            if (_byIds.TryGetValue((entry.Length, entry.IdsHash), out var old)) Remove(old);
            _byIds[(entry.Length, entry.IdsHash)] = entry;
            Increment(_idLengths, entry.Length, 1);
            AddText(entry, text, ids);
            entry.Node = _recent.AddFirst(entry);
            _deviceUsed += entry.Bytes;
            Evict();
        }
    }

    /// <summary>
    /// Lets prompts that start with <paramref name="text"/> begin with <paramref name="ids"/>, which must start with
    /// the kept sequence <paramref name="kept"/> (e.g. its reply's last token, sampled but not yet read, follows).
    /// Nothing happens when that sequence is no longer kept.
    /// </summary>
    public void AddAlias(int[] kept, string text, int[] ids)
    {
        if (!ids.AsSpan().StartsWith(kept)) throw new ArgumentException("The alias ids must start with the kept sequence.", nameof(ids));
        lock (_gate)
        {
            if (!_byIds.TryGetValue((kept.Length, Fnv<int>(kept)), out var entry) || !IdsOf(entry).AsSpan().SequenceEqual(kept)) return;
            long before = entry.Bytes;
            AddText(entry, text, ids);
            if (entry.OnHost) _hostUsed += entry.Bytes - before;
            else _deviceUsed += entry.Bytes - before;
            Evict();
        }
    }

    /// <summary>
    /// The longest kept sequence of at most <paramref name="maxLength"/> tokens that <paramref name="ids"/> starts
    /// with: a fresh copy of its state on the model's device (the entry stays) and its length; null when none.
    /// </summary>
    public (IModelState State, int Length)? Resume(int[] ids, int maxLength)
    {
        lock (_gate)
        {
            var hashes = PrefixHashes<int>(ids, maxLength, _idLengths);
            foreach (var length in _idLengths.Keys.Reverse())
            {
                if (hashes.TryGetValue(length, out var hash) && _byIds.TryGetValue((length, hash), out var entry)
                    && ids.AsSpan().StartsWith(IdsOf(entry)))
                {
                    Touch(entry);
                    return (entry.State.CopyOut(0, device), entry.Length);
                }
            }
            return null;
        }
    }

    /// <summary>
    /// For a prompt <paramref name="text"/> that starts with a kept text: the ids its encoding starts with and how
    /// many characters they cover (the longest such text); null when none.
    /// </summary>
    public (int[] Ids, int Chars)? FindText(string text)
    {
        lock (_gate)
        {
            var hashes = PrefixHashes(text.AsSpan(), text.Length, _textLengths);
            foreach (var length in _textLengths.Keys.Reverse())
            {
                if (hashes.TryGetValue(length, out var hash) && _byText.TryGetValue((length, hash), out var key)
                    && text.AsSpan().StartsWith(TextOf(key.Text)))
                    return (key.Ids.data<int>().ToArray(), key.Length);
            }
            return null;
        }
    }

    private void AddText(Entry entry, string text, int[] ids)
    {
        if (text.Length == 0) return;
        var hash = Fnv(text.AsSpan());
        if (_byText.TryGetValue((text.Length, hash), out var old))
        {
            old.Entry.Texts.Remove(old);
            Increment(_textLengths, old.Length, -1);
            // The old key's bytes leave its entry's tier.
            if (old.Entry.OnHost) _hostUsed -= old.Bytes;
            else _deviceUsed -= old.Bytes;
            old.Dispose();
        }
        var key = new TextKey(entry, Native(text), Native(ids), hash);
        entry.Texts.Add(key);
        _byText[(key.Length, hash)] = key;
        Increment(_textLengths, key.Length, 1);
    }

    /// <summary>A copy in memory libtorch owns (a tensor made from an array may keep the array pinned instead).</summary>
    private static Tensor Native(int[] ids)
    {
        using var wrapped = torch.tensor(ids);
        return wrapped.clone().DetachFromDisposeScope();
    }

    private static Tensor Native(string text)
    {
        using var wrapped = torch.tensor(text.Select(c => (short)c).ToArray());
        return wrapped.clone().DetachFromDisposeScope();
    }

    private static int[] IdsOf(Entry entry) => entry.Ids.data<int>().ToArray();

    private static char[] TextOf(Tensor text) => text.data<short>().Select(c => (char)c).ToArray();

    /// <summary>FNV-1a of every prefix of <paramref name="items"/> up to <paramref name="maxLength"/> whose length some key has.</summary>
    private static Dictionary<int, ulong> PrefixHashes<T>(ReadOnlySpan<T> items, int maxLength, SortedDictionary<int, int> lengths)
        where T : IConvertible
    {
        var hashes = new Dictionary<int, ulong>();
        if (lengths.Count == 0) return hashes;
        ulong hash = FnvOffset;
        int limit = Math.Min(Math.Min(items.Length, maxLength), lengths.Keys.Last());
        for (int i = 0; i < limit; i++)
        {
            hash = (hash ^ items[i].ToUInt64(null)) * FnvPrime;
            if (lengths.ContainsKey(i + 1)) hashes[i + 1] = hash;
        }
        return hashes;
    }

    private const ulong FnvOffset = 14695981039346656037, FnvPrime = 1099511628211;

    private static ulong Fnv<T>(ReadOnlySpan<T> items) where T : IConvertible
    {
        ulong hash = FnvOffset;
        foreach (var item in items) hash = (hash ^ item.ToUInt64(null)) * FnvPrime;
        return hash;
    }

    private void Touch(Entry entry)
    {
        _recent.Remove(entry.Node!);
        _recent.AddFirst(entry.Node!);
    }

    /// <summary>Spills (CUDA) or drops the least recently used entries until both budgets hold.</summary>
    private void Evict()
    {
        while (_deviceUsed > deviceBytes && LeastRecent(onHost: false) is { } oldest)
        {
            if (!_spills)
            {
                Remove(oldest);
                continue;
            }
            var onHost = oldest.State.CopyOut(0, torch.CPU);
            _deviceUsed -= oldest.Bytes;
            oldest.State.Dispose();
            oldest.State = onHost;
            oldest.OnHost = true;
            _hostUsed += oldest.Bytes;
        }
        while (_hostUsed > hostBytes && LeastRecent(onHost: true) is { } oldest) Remove(oldest);
    }

    private Entry? LeastRecent(bool onHost)
    {
        for (var node = _recent.Last; node is not null; node = node.Previous)
            if (node.Value.OnHost == onHost) return node.Value;
        return null;
    }

    private void Remove(Entry entry)
    {
        if (entry.OnHost) _hostUsed -= entry.Bytes;
        else _deviceUsed -= entry.Bytes;
        _recent.Remove(entry.Node!);
        _byIds.Remove((entry.Length, entry.IdsHash));
        Increment(_idLengths, entry.Length, -1);
        foreach (var key in entry.Texts)
        {
            _byText.Remove((key.Length, key.Hash));
            Increment(_textLengths, key.Length, -1);
            key.Dispose();
        }
        entry.State.Dispose();
        entry.Ids.Dispose();
    }

    private static void Increment(SortedDictionary<int, int> counts, int key, int by)
    {
        int count = counts.GetValueOrDefault(key) + by;
        if (count > 0) counts[key] = count;
        else counts.Remove(key);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            while (_recent.First is { } first) Remove(first.Value);
        }
    }
}
