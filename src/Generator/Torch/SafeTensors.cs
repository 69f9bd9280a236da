using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Checkpoints;

/// <summary>
/// Reads the safetensors format: an 8-byte little-endian header length, a JSON header
/// ({name: {dtype, shape, data_offsets: [begin, end]}}, optional "__metadata__"), then the raw tensor bytes.
/// </summary>
public static class SafeTensors
{
    /// <summary>Loads every tensor of <paramref name="path"/> onto the CPU in its stored dtype.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        using var reader = Open(path);
        return reader.ReadAll();
    }

    /// <summary>Reads the header now; each tensor's bytes go from the file straight into its native memory on request.</summary>
    public static CheckpointReader Open(string path)
    {
        var stream = OpenForRead(path);
        try
        {
            var (entries, dataStart) = ReadHeader(stream, path);
            foreach (var (name, entry) in entries)
            {
                long expected = entry.Shape.Aggregate(1L, (a, b) => a * b) * ElementSize(entry.DType);
                if (entry.End - entry.Begin != expected)
                    throw new CheckpointFormatException(path, $"tensor '{name}' has {entry.End - entry.Begin} bytes but shape [{string.Join(", ", entry.Shape)}] of {entry.DType} needs {expected}");
                if (dataStart + entry.End > stream.Length)
                    throw new CheckpointFormatException(path, $"tensor '{name}' ends at byte {dataStart + entry.End} but the file has {stream.Length} bytes (truncated?)");
            }
            return new Reader(path, stream, entries, dataStart);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private sealed class Reader(string path, FileStream stream, List<(string Name, Entry Entry)> entries, long dataStart) : CheckpointReader(path)
    {
        private readonly Dictionary<string, Entry> _entries = entries.ToDictionary(e => e.Name, e => e.Entry, StringComparer.Ordinal);
        private readonly Dictionary<string, TensorInfo> _infos = entries.ToDictionary(e => e.Name, e => new TensorInfo(e.Entry.DType, e.Entry.Shape), StringComparer.Ordinal);

        public override IReadOnlyDictionary<string, TensorInfo> Tensors => _infos;

        public override Tensor Read(string name)
        {
            var entry = _entries[name];
            var tensor = torch.empty(entry.Shape, entry.DType);
            try
            {
                stream.Position = dataStart + entry.Begin;
                Fill(tensor, stream, Path, name);
                return tensor;
            }
            catch
            {
                tensor.Dispose();
                throw;
            }
        }

        public override void Dispose()
        {
            stream.Dispose();
            base.Dispose();
        }
    }

    internal static FileStream OpenForRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointFormatException(path, $"cannot be opened ({e.Message})", e);
        }
    }

    internal static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        _ => throw new NotSupportedException($"dtype {dtype}"),
    };

    /// <summary>The safetensors header name of a dtype ("F32", "BF16", ...).</summary>
    internal static string DTypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        _ => throw new NotSupportedException($"dtype {dtype}"),
    };

    private sealed record Entry(ScalarType DType, long[] Shape, long Begin, long End);

    private static (List<(string Name, Entry Entry)> Entries, long DataStart) ReadHeader(FileStream stream, string path)
    {
        if (stream.Length < 8)
            throw new CheckpointFormatException(path, "is not a safetensors file (shorter than its 8-byte header length)");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BitConverter.ToUInt64(lengthBytes);
        if (headerLength == 0 || headerLength > 100_000_000 || (long)headerLength > stream.Length - 8)
            throw new CheckpointFormatException(path, $"is not a safetensors file (header length {headerLength} does not fit a {stream.Length}-byte file)");
        var header = new byte[headerLength];
        stream.ReadExactly(header);

        JsonDocument json;
        try { json = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new CheckpointFormatException(path, "is not a safetensors file (its header is not JSON)", e); }

        var entries = new List<(string, Entry)>();
        using (json)
        {
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__") continue;
                var e = property.Value;
                try
                {
                    var dtype = ParseDType(e.GetProperty("dtype").GetString() ?? "");
                    var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                    var offsets = e.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
                    if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                        throw new CheckpointFormatException(path, $"tensor '{property.Name}' has invalid data_offsets");
                    entries.Add((property.Name, new Entry(dtype, shape, offsets[0], offsets[1])));
                }
                catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    throw new CheckpointFormatException(path, $"tensor '{property.Name}' has a malformed header entry ({ex.Message})", ex);
                }
            }
        }
        return (entries, 8 + (long)headerLength);

        ScalarType ParseDType(string s) => s switch
        {
            "F32" => ScalarType.Float32,
            "F16" => ScalarType.Float16,
            "BF16" => ScalarType.BFloat16,
            "F64" => ScalarType.Float64,
            "I64" => ScalarType.Int64,
            "I32" => ScalarType.Int32,
            "I16" => ScalarType.Int16,
            "I8" => ScalarType.Int8,
            "U8" => ScalarType.Byte,
            "BOOL" => ScalarType.Bool,
            _ => throw new CheckpointFormatException(path, $"unsupported safetensors dtype '{s}'"),
        };
    }
}
