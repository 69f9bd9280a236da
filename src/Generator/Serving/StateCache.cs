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
/// Least recently used first out, within a byte budget on the model's device; on CUDA, states pushed out of the
/// device's budget spill to host memory (a second budget) before they are dropped. Only hashes and lengths are
/// managed objects: the token ids live in native memory beside their state and count against the budget, so the
/// managed heap stays flat however full the cache is. Every hash hit is verified against the ids, so a match is exact.
/// Thread-safe.
/// </remarks>
public sealed class StateCache(Device device, long deviceBytes, long hostBytes) : IDisposable
{
    private sealed class Entry(Tensor ids, ulong idsHash, ulong textHash, int textLength)
    {
        public Tensor Ids { get; } = ids;            // int32 [n] on the host
        public ulong IdsHash { get; } = idsHash;
        public ulong TextHash { get; } = textHash;  // of the decoded text, for text prompts (see FindText)
        public int TextLength { get; } = textLength;
        public required IModelState State { get; set; }
        public bool OnHost { get; set; }
        public LinkedListNode<Entry>? Node { get; set; }
        public int Length => (int)Ids.shape[0];
        public long Bytes => State.Bytes + Ids.numel() * sizeof(int);
    }

    private readonly bool _spills = device.type != DeviceType.CPU && hostBytes > 0;
    private readonly Dictionary<(int Length, ulong Hash), Entry> _byIds = [];
    private readonly Dictionary<(int Length, ulong Hash), Entry> _byText = [];
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
    public void Add(ReadOnlySpan<int> ids, string text, IModelState state)
    {
        if (!Enabled || ids.Length == 0 || state.Bytes + ids.Length * sizeof(int) > deviceBytes)
        {
            state.Dispose();
            return;
        }
        var entry = new Entry(torch.tensor(ids.ToArray()).DetachFromDisposeScope(), Fnv(ids), Fnv(text.AsSpan()), text.Length) { State = state };
        lock (_gate)
        {
            if (_byIds.TryGetValue((entry.Length, entry.IdsHash), out var old)) Remove(old);
            _byIds[(entry.Length, entry.IdsHash)] = entry;
            _byText[(entry.TextLength, entry.TextHash)] = entry;
            Increment(_idLengths, entry.Length, 1);
            Increment(_textLengths, entry.TextLength, 1);
            entry.Node = _recent.AddFirst(entry);
            _deviceUsed += entry.Bytes;
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
            var entry = Longest(_byIds, _idLengths, PrefixHashes<int>(ids, maxLength, _idLengths), e => StartsWith(ids, e));
            if (entry is null) return null;
            Touch(entry);
            return (entry.State.CopyOut(0, device), entry.Length);
        }
    }

    /// <summary>
    /// The token ids of the longest kept sequence whose decoded text <paramref name="text"/> starts with, and how
    /// many characters they cover; null when none. Encoding a prompt as these ids and then the rest lets it resume
    /// even where encoding the whole text afresh would cut tokens differently at the join.
    /// </summary>
    public (int[] Ids, int Chars)? FindText(string text, Func<int[], string> decode)
    {
        lock (_gate)
        {
            var entry = Longest(_byText, _textLengths, PrefixHashes(text.AsSpan(), text.Length, _textLengths),
                e => text.AsSpan().StartsWith(decode(IdsOf(e))));
            return entry is null ? null : (IdsOf(entry), entry.TextLength);
        }
    }

    private static int[] IdsOf(Entry entry) => entry.Ids.data<int>().ToArray();

    private static bool StartsWith(int[] ids, Entry entry) => ids.AsSpan().StartsWith(entry.Ids.data<int>().ToArray());

    /// <summary>The longest entry whose (length, hash) is among the prefix hashes and whose content matches.</summary>
    private static Entry? Longest(Dictionary<(int, ulong), Entry> index, SortedDictionary<int, int> lengths,
        Dictionary<int, ulong> prefixHashes, Func<Entry, bool> matches)
    {
        foreach (var length in lengths.Keys.Reverse())
        {
            if (prefixHashes.TryGetValue(length, out var hash) && index.TryGetValue((length, hash), out var entry) && matches(entry))
                return entry;
        }
        return null;
    }

    /// <summary>FNV-1a of every prefix of <paramref name="items"/> up to <paramref name="maxLength"/> whose length some entry has.</summary>
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
        _recent.Remove(entry.Node!);
        _byIds.Remove((entry.Length, entry.IdsHash));
        if (_byText.TryGetValue((entry.TextLength, entry.TextHash), out var byText) && byText == entry)
            _byText.Remove((entry.TextLength, entry.TextHash));
        Increment(_idLengths, entry.Length, -1);
        Increment(_textLengths, entry.TextLength, -1);
        if (entry.OnHost) _hostUsed -= entry.Bytes;
        else _deviceUsed -= entry.Bytes;
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
