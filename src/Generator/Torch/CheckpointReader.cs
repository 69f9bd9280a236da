using static TorchSharp.torch;

namespace Rag.Generator.Checkpoints;

/// <summary>The dtype and shape of one stored tensor, known before its data is read.</summary>
public sealed record TensorInfo(ScalarType DType, long[] Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public bool IsFloatingPoint => DType is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64;
}

/// <summary>
/// An open checkpoint: every tensor's name, dtype and shape from the file's index, and each tensor's data read
/// on request, straight from the file into native memory (no managed copy), so that a loader can convert one
/// tensor and drop it before reading the next.
/// </summary>
public abstract class CheckpointReader : IDisposable
{
    protected CheckpointReader(string path) => Path = path;

    /// <summary>Named in errors.</summary>
    public string Path { get; }

    public abstract IReadOnlyDictionary<string, TensorInfo> Tensors { get; }

    /// <summary>A new CPU tensor in its stored dtype; the caller owns (and disposes) it.</summary>
    public abstract Tensor Read(string name);

    /// <summary>Every tensor, read at once (for small files: test fixtures, expected logits).</summary>
    public Dictionary<string, Tensor> ReadAll()
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var name in Tensors.Keys) tensors[name] = Read(name);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return tensors;
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>Fills <paramref name="tensor"/>'s memory from <paramref name="source"/> (exactly its byte size).</summary>
    internal static void Fill(Tensor tensor, Stream source, string path, string name)
    {
        try
        {
            source.ReadExactly(tensor.bytes);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}' cannot be read; the file is truncated or corrupt ({e.Message})", e);
        }
    }
}

/// <summary>Tensors already in memory seen as a checkpoint (tests, converted weights); reads are new handles on them.</summary>
public sealed class InMemoryCheckpoint(IReadOnlyDictionary<string, Tensor> tensors, string source) : CheckpointReader(source)
{
    private readonly Dictionary<string, TensorInfo> _infos = tensors.ToDictionary(e => e.Key, e => new TensorInfo(e.Value.dtype, e.Value.shape), StringComparer.Ordinal);

    public override IReadOnlyDictionary<string, TensorInfo> Tensors => _infos;

    public override Tensor Read(string name) => tensors[name].detach();
}
