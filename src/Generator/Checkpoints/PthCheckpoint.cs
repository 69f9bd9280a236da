using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Checkpoints;

/// <summary>
/// Reads a PyTorch state dict saved with <c>torch.save</c> (the zip format of PyTorch ≥ 1.6) without Python:
/// the archive holds <c>&lt;prefix&gt;/data.pkl</c> (a pickle of an OrderedDict name → tensor, each tensor a
/// <c>torch._utils._rebuild_tensor_v2</c> call on a persistent storage id) and one raw little-endian entry
/// <c>&lt;prefix&gt;/data/&lt;key&gt;</c> per storage.
/// </summary>
public static class PthCheckpoint
{
    /// <summary>Loads every tensor of <paramref name="path"/> onto the CPU in its stored dtype (fp32, bf16 or fp16).</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        using var stream = SafeTensors.OpenForRead(path);
        using var zip = OpenZip(stream, path);
        var pickle = zip.Entries.FirstOrDefault(e => e.FullName == "data.pkl" || e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal))
            ?? throw new CheckpointFormatException(path, "is a zip archive but has no data.pkl entry (not a torch.save file)");
        var prefix = pickle.FullName[..^"data.pkl".Length];
        CheckByteOrder(zip, prefix, path);

        using var storages = new StorageReader(zip, prefix, path);
        object? root;
        try
        {
            root = new PickleMachine(ReadEntry(pickle, path), path, storages.Reduce).Run();
        }
        catch
        {
            storages.DisposeTensors();
            throw;
        }
        return AsStateDict(root, storages, path);
    }

    private static ZipArchive OpenZip(FileStream stream, string path)
    {
        Span<byte> magic = stackalloc byte[4];
        int read = stream.Read(magic);
        stream.Position = 0;
        bool looksLikeZip = read == 4 && magic.SequenceEqual("PK\u0003\u0004"u8);
        if (!looksLikeZip)
        {
            var legacy = read >= 1 && magic[0] == 0x80;
            throw new CheckpointFormatException(path, legacy
                ? "is a legacy (pre-1.6, non-zip) torch.save file; re-save it with a current PyTorch"
                : "is not a PyTorch .pth file (not a zip archive)");
        }
        try
        {
            return new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException(path, $"is a truncated or corrupt zip archive ({e.Message})", e);
        }
    }

    private static void CheckByteOrder(ZipArchive zip, string prefix, string path)
    {
        var entry = zip.GetEntry(prefix + "byteorder");
        if (entry == null) return; // older writers omit it; they were little-endian
        var order = System.Text.Encoding.ASCII.GetString(ReadEntry(entry, path)).Trim();
        if (order != "little")
            throw new CheckpointFormatException(path, $"stores tensors in '{order}' byte order; only little-endian is supported");
    }

    internal static byte[] ReadEntry(ZipArchiveEntry entry, string path)
    {
        try
        {
            if (entry.Length > Array.MaxLength)
                throw new CheckpointFormatException(path, $"entry '{entry.FullName}' has {entry.Length} bytes, more than one array can hold");
            var bytes = new byte[entry.Length];
            using var s = entry.Open();
            s.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new CheckpointFormatException(path, $"entry '{entry.FullName}' cannot be read; the file is truncated or corrupt ({e.Message})", e);
        }
    }

    private static Dictionary<string, Tensor> AsStateDict(object? root, StorageReader storages, string path)
    {
        if (root is not Dictionary<object, object?> dict)
        {
            storages.DisposeTensors();
            throw new CheckpointFormatException(path, $"does not hold a state dict (its top-level object is {Describe(root)}, not a dictionary)");
        }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in dict)
        {
            if (key is not string name || value is not Tensor tensor)
            {
                storages.DisposeTensors();
                throw new CheckpointFormatException(path,
                    $"does not hold a state dict (entry '{key}' is {Describe(value)}, not a tensor)");
            }
            result[name] = tensor;
        }
        return result;
    }

    private static string Describe(object? o) => o switch
    {
        null => "None",
        Dictionary<object, object?> => "a dictionary",
        object?[] => "a tuple",
        List<object?> => "a list",
        PickleGlobal g => $"the global {g}",
        _ => $"a {o.GetType().Name}",
    };

    /// <summary>Resolves the REDUCE calls of a state dict, reading each storage's bytes once.</summary>
    private sealed class StorageReader(ZipArchive zip, string prefix, string path) : IDisposable
    {
        private readonly Dictionary<string, Tensor> _storages = [];
        private readonly List<Tensor> _tensors = [];

        public object Reduce(PickleGlobal callable, object?[] args) => callable.ToString() switch
        {
            "collections.OrderedDict" => new Dictionary<object, object?>(),
            "torch._utils._rebuild_tensor_v2" => RebuildTensor(args),
            // nn.Parameter wraps a tensor; at inference only the data matters.
            "torch._utils._rebuild_parameter" when args.Length >= 1 && args[0] is Tensor t => t,
            _ => throw new CheckpointFormatException(path, $"does not hold a plain state dict (it calls {callable}, which is not supported)"),
        };

        /// <summary>_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).</summary>
        private Tensor RebuildTensor(object?[] args)
        {
            if (args.Length < 4 || args[0] is not PicklePersistentId storageId || args[1] is not long offset
                || args[2] is not object?[] size || args[3] is not object?[] stride)
                throw new CheckpointFormatException(path, "has a malformed _rebuild_tensor_v2 call in data.pkl");
            var storage = Storage(storageId);
            var shape = size.Select(ToLong).ToArray();
            var strides = stride.Select(ToLong).ToArray();
            long numel = shape.Aggregate(1L, (a, b) => a * b);
            long lastIndex = offset + shape.Zip(strides, (n, s) => (n - 1) * s).Sum();
            if (numel > 0 && (offset < 0 || lastIndex >= storage.shape[0]))
                throw new CheckpointFormatException(path,
                    $"a tensor of shape [{string.Join(", ", shape)}] reaches element {lastIndex} of a storage of {storage.shape[0]} (truncated?)");

            var view = storage.as_strided(shape, strides, offset);
            // Own the memory unless the tensor is exactly its whole storage, so shared storages are not kept alive.
            bool wholeStorage = numel == storage.shape[0] && view.is_contiguous();
            var tensor = wholeStorage ? view : view.contiguous().clone();
            if (!wholeStorage) view.Dispose();
            _tensors.Add(tensor);
            return tensor;
        }

        /// <summary>A persistent id is ('storage', storage_type, key, location, numel).</summary>
        private Tensor Storage(PicklePersistentId id)
        {
            var f = id.Fields;
            if (f.Length < 5 || f[0] is not "storage" || f[1] is not PickleGlobal type || f[2] is not string key || f[4] is not long numel)
                throw new CheckpointFormatException(path, "has a persistent id in data.pkl that is not a tensor storage");
            if (_storages.TryGetValue(key, out var cached)) return cached;

            var dtype = StorageDType(type);
            var entry = zip.GetEntry($"{prefix}data/{key}")
                ?? throw new CheckpointFormatException(path, $"storage '{prefix}data/{key}' is missing from the archive (truncated?)");
            long expected = numel * SafeTensors.ElementSize(dtype);
            if (entry.Length < expected)
                throw new CheckpointFormatException(path, $"storage '{entry.FullName}' has {entry.Length} bytes but {numel} elements of {dtype} need {expected} (truncated?)");
            var bytes = ReadEntry(entry, path);
            if (bytes.LongLength != expected) Array.Resize(ref bytes, checked((int)expected));
            var storage = SafeTensors.FromBytes(bytes, dtype, [numel], path, entry.FullName);
            _storages[key] = storage;
            return storage;
        }

        private ScalarType StorageDType(PickleGlobal type) => type.ToString() switch
        {
            "torch.FloatStorage" => ScalarType.Float32,
            "torch.BFloat16Storage" => ScalarType.BFloat16,
            "torch.HalfStorage" => ScalarType.Float16,
            _ => throw new CheckpointFormatException(path, $"has tensors of storage type {type}; only torch.FloatStorage (fp32), torch.BFloat16Storage (bf16) and torch.HalfStorage (fp16) are supported"),
        };

        private long ToLong(object? o) =>
            o as long? ?? throw new CheckpointFormatException(path, $"has a tensor size or stride that is not an integer ({Describe(o)})");

        public void DisposeTensors()
        {
            foreach (var t in _tensors) t.Dispose();
            _tensors.Clear();
        }

        /// <summary>Releases the storage handles; tensors that view a whole storage keep it alive natively.</summary>
        public void Dispose()
        {
            foreach (var s in _storages.Values) s.Dispose();
        }
    }
}
