using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Rag.Generator.Checkpoints;

/// <summary>A <c>module.name</c> reference produced by the GLOBAL opcode; callables and storage types are these.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A persistent id (BINPERSID): torch.save writes one per tensor storage.</summary>
internal sealed record PicklePersistentId(object?[] Fields);

/// <summary>A REDUCE of a callable the machine does not construct itself; the resolver decides.</summary>
internal delegate object ReduceResolver(PickleGlobal callable, object?[] args);

/// <summary>
/// A small pickle virtual machine (protocol 2, plus the few protocol 4 framing opcodes), enough to read the
/// <c>data.pkl</c> of a PyTorch state dict. It builds plain objects: dictionaries, object[] tuples, lists,
/// strings, longs, bools, null; globals and persistent ids become records; REDUCE is delegated.
/// Anything else is refused with the opcode and its byte position rather than guessed at.
/// </summary>
internal sealed class PickleMachine(byte[] data, string path, ReduceResolver reduce)
{
    private static readonly object Mark = new();

    private readonly List<object?> _stack = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;

    public object? Run()
    {
        while (true)
        {
            int at = _pos;
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break;                           // PROTO n
                case 0x95: ReadBytes(8); break;                         // FRAME length (the data is already in memory)
                case (byte)'.': return Pop();                           // STOP
                case (byte)'(': _stack.Add(Mark); break;                // MARK
                case (byte)'}': Push(new Dictionary<object, object?>()); break; // EMPTY_DICT
                case (byte)']': Push(new List<object?>()); break;       // EMPTY_LIST
                case (byte)')': Push(Array.Empty<object?>()); break;    // EMPTY_TUPLE
                case (byte)'N': Push(null); break;                      // NONE
                case 0x88: Push(true); break;                           // NEWTRUE
                case 0x89: Push(false); break;                          // NEWFALSE
                case (byte)'K': Push((long)ReadByte()); break;          // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break; // BININT2
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break;  // BININT
                case 0x8a: Push(ReadLong1()); break;                    // LONG1
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break; // BINFLOAT
                case (byte)'X': Push(ReadUtf8(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))))); break; // BINUNICODE
                case 0x8c: Push(ReadUtf8(ReadByte())); break;           // SHORT_BINUNICODE
                case (byte)'c': Push(new PickleGlobal(ReadLine(), ReadLine())); break; // GLOBAL module\nname\n
                case (byte)'q': _memo[ReadByte()] = Peek(); break;      // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break;          // MEMOIZE
                case (byte)'h': Push(MemoGet(ReadByte(), at)); break;   // BINGET
                case (byte)'j': Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)), at)); break; // LONG_BINGET
                case (byte)'t': Push(PopToMark()); break;               // TUPLE
                case 0x85: Push(PopN(1)); break;                        // TUPLE1
                case 0x86: Push(PopN(2)); break;                        // TUPLE2
                case 0x87: Push(PopN(3)); break;                        // TUPLE3
                case (byte)'a': { var item = Pop(); AsList(Peek(), at).Add(item); break; } // APPEND
                case (byte)'e': { var items = PopToMark(); AsList(Peek(), at).AddRange(items); break; } // APPENDS
                case (byte)'s': { var value = Pop(); var key = Pop(); SetItem(Peek(), key, value, at); break; } // SETITEM
                case (byte)'u': // SETITEMS
                    {
                        var items = PopToMark();
                        var target = Peek();
                        for (int i = 0; i + 1 < items.Length; i += 2) SetItem(target, items[i], items[i + 1], at);
                        break;
                    }
                case (byte)'Q': Push(new PicklePersistentId(AsTuple(Pop(), at))); break; // BINPERSID
                case (byte)'R': // REDUCE callable args
                    {
                        var args = AsTuple(Pop(), at);
                        if (Pop() is not PickleGlobal callable)
                            throw Problem($"REDUCE at byte {at} of data.pkl applies something that is not a global");
                        Push(reduce(callable, args));
                        break;
                    }
                case (byte)'b': Pop(); break; // BUILD: the state (e.g. an OrderedDict's _metadata) is not needed
                default:
                    throw Problem($"unsupported pickle opcode 0x{op:x2} ('{(char)op}') at byte {at} of data.pkl");
            }
        }
    }

    private CheckpointFormatException Problem(string message) => new(path, message);

    private void Push(object? o) => _stack.Add(o);

    private object? Peek() =>
        _stack.Count > 0 ? _stack[^1] : throw Problem($"pickle stack underflow at byte {_pos} of data.pkl");

    private object? Pop()
    {
        var o = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        if (ReferenceEquals(o, Mark)) throw Problem($"unexpected MARK on the pickle stack at byte {_pos} of data.pkl");
        return o;
    }

    private object?[] PopN(int n)
    {
        var items = new object?[n];
        for (int i = n - 1; i >= 0; i--) items[i] = Pop();
        return items;
    }

    private object?[] PopToMark()
    {
        int mark = _stack.FindLastIndex(o => ReferenceEquals(o, Mark));
        if (mark < 0) throw Problem($"pickle MARK missing before byte {_pos} of data.pkl");
        var items = _stack.GetRange(mark + 1, _stack.Count - mark - 1).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? MemoGet(long index, int at) =>
        _memo.TryGetValue(index, out var o) ? o : throw Problem($"pickle memo entry {index} read before it was written (byte {at} of data.pkl)");

    private void SetItem(object? target, object? key, object? value, int at)
    {
        if (target is not Dictionary<object, object?> dict || key is null)
            throw Problem($"SETITEM at byte {at} of data.pkl targets a {target?.GetType().Name ?? "null"}, not a dictionary");
        dict[key] = value;
    }

    private List<object?> AsList(object? o, int at) =>
        o as List<object?> ?? throw Problem($"APPEND at byte {at} of data.pkl targets a {o?.GetType().Name ?? "null"}, not a list");

    private object?[] AsTuple(object? o, int at) =>
        o as object?[] ?? throw Problem($"expected a tuple at byte {at} of data.pkl, found {o?.GetType().Name ?? "null"}");

    private byte ReadByte() => ReadBytes(1)[0];

    private ReadOnlySpan<byte> ReadBytes(int n)
    {
        if (n < 0 || _pos + n > data.Length)
            throw Problem($"data.pkl ends at byte {data.Length} before its STOP opcode (truncated)");
        var span = data.AsSpan(_pos, n);
        _pos += n;
        return span;
    }

    private string ReadUtf8(int n) => Encoding.UTF8.GetString(ReadBytes(n));

    private string ReadLine()
    {
        int end = Array.IndexOf(data, (byte)'\n', _pos);
        if (end < 0) throw Problem($"data.pkl ends at byte {data.Length} inside a GLOBAL name (truncated)");
        var line = Encoding.ASCII.GetString(data, _pos, end - _pos);
        _pos = end + 1;
        return line;
    }

    private long ReadLong1()
    {
        int n = ReadByte();
        var value = new BigInteger(ReadBytes(n), isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue
            ? (long)value
            : throw Problem($"LONG1 value at byte {_pos} of data.pkl does not fit 64 bits");
    }
}
