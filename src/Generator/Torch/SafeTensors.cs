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
        using var stream = OpenForRead(path);
        var (entries, dataStart) = ReadHeader(stream, path);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, entry) in entries)
            {
                var length = entry.End - entry.Begin;
                if (dataStart + entry.End > stream.Length)
                    throw new CheckpointFormatException(path, $"tensor '{name}' ends at byte {dataStart + entry.End} but the file has {stream.Length} bytes (truncated?)");
                var bytes = new byte[length];
                stream.Position = dataStart + entry.Begin;
                stream.ReadExactly(bytes);
                tensors[name] = FromBytes(bytes, entry.DType, entry.Shape, path, name);
            }
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return tensors;
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

    /// <summary>Builds a CPU tensor of <paramref name="dtype"/> from little-endian bytes.</summary>
    internal static Tensor FromBytes(byte[] bytes, ScalarType dtype, long[] shape, string path, string name)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        long expected = count * ElementSize(dtype);
        if (bytes.LongLength != expected)
            throw new CheckpointFormatException(path, $"tensor '{name}' has {bytes.LongLength} bytes but shape [{string.Join(", ", shape)}] of {dtype} needs {expected}");
        var t = torch.empty(shape, dtype);
        t.bytes = bytes;
        return t;
    }

    internal static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
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
