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
        using var reader = Open(path);
        return reader.ReadAll();
    }

    /// <summary>
    /// Reads data.pkl now (names, dtypes, shapes, which storage each tensor views); a tensor's storage is read
    /// from the archive into native memory only when the tensor is asked for.
    /// </summary>
    public static CheckpointReader Open(string path)
    {
        var stream = SafeTensors.OpenForRead(path);
        ZipArchive? zip = null;
        try
        {
            zip = OpenZip(stream, path);
            var pickle = zip.Entries.FirstOrDefault(e => e.FullName == "data.pkl" || e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal))
                ?? throw new CheckpointFormatException(path, "is a zip archive but has no data.pkl entry (not a torch.save file)");
            var prefix = pickle.FullName[..^"data.pkl".Length];
            CheckByteOrder(zip, prefix, path);
            var storages = new StorageIndex(zip, prefix, path);
            var root = new PickleMachine(ReadEntry(pickle, path), path, storages.Reduce).Run();
            return new Reader(path, stream, zip, AsStateDict(root, path));
        }
        catch
        {
            zip?.Dispose();
            stream.Dispose();
            throw;
        }
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

    private static Dictionary<string, StoredTensor> AsStateDict(object? root, string path)
    {
        if (root is not Dictionary<object, object?> dict)
            throw new CheckpointFormatException(path, $"does not hold a state dict (its top-level object is {Describe(root)}, not a dictionary)");
        var result = new Dictionary<string, StoredTensor>(StringComparer.Ordinal);
        foreach (var (key, value) in dict)
        {
            if (key is not string name || value is not StoredTensor tensor)
                throw new CheckpointFormatException(path,
                    $"does not hold a state dict (entry '{key}' is {Describe(value)}, not a tensor)");
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

    /// <summary>A tensor as data.pkl describes it: a strided view of one storage entry of the archive.</summary>
    private sealed record StoredTensor(ZipArchiveEntry Storage, ScalarType DType, long StorageElements, long Offset, long[] Shape, long[] Strides)
    {
        public bool IsWholeStorage =>
            Offset == 0 && Shape.Aggregate(1L, (a, b) => a * b) == StorageElements && Contiguous();

        private bool Contiguous()
        {
            long expected = 1;
            for (int i = Shape.Length - 1; i >= 0; i--)
            {
                if (Shape[i] != 1 && Strides[i] != expected) return false;
                expected *= Shape[i];
            }
            return true;
        }
    }

    /// <summary>Resolves the REDUCE calls of a state dict into <see cref="StoredTensor"/>s, checking each against its storage entry.</summary>
    private sealed class StorageIndex(ZipArchive zip, string prefix, string path)
    {
        public object Reduce(PickleGlobal callable, object?[] args) => callable.ToString() switch
        {
            "collections.OrderedDict" => new Dictionary<object, object?>(),
            "torch._utils._rebuild_tensor_v2" => RebuildTensor(args),
            // nn.Parameter wraps a tensor; at inference only the data matters.
            "torch._utils._rebuild_parameter" when args.Length >= 1 && args[0] is StoredTensor t => t,
            _ => throw new CheckpointFormatException(path, $"does not hold a plain state dict (it calls {callable}, which is not supported)"),
        };

        /// <summary>_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).</summary>
        private StoredTensor RebuildTensor(object?[] args)
        {
            if (args.Length < 4 || args[0] is not PicklePersistentId storageId || args[1] is not long offset
                || args[2] is not object?[] size || args[3] is not object?[] stride)
                throw new CheckpointFormatException(path, "has a malformed _rebuild_tensor_v2 call in data.pkl");
            var (entry, dtype, storageElements) = Storage(storageId);
            var shape = size.Select(ToLong).ToArray();
            var strides = stride.Select(ToLong).ToArray();
            long numel = shape.Aggregate(1L, (a, b) => a * b);
            long lastIndex = offset + shape.Zip(strides, (n, s) => (n - 1) * s).Sum();
            if (numel > 0 && (offset < 0 || lastIndex >= storageElements))
                throw new CheckpointFormatException(path,
                    $"a tensor of shape [{string.Join(", ", shape)}] reaches element {lastIndex} of a storage of {storageElements} (truncated?)");
            return new StoredTensor(entry, dtype, storageElements, offset, shape, strides);
        }

        /// <summary>A persistent id is ('storage', storage_type, key, location, numel).</summary>
        private (ZipArchiveEntry Entry, ScalarType DType, long Elements) Storage(PicklePersistentId id)
        {
            var f = id.Fields;
            if (f.Length < 5 || f[0] is not "storage" || f[1] is not PickleGlobal type || f[2] is not string key || f[4] is not long numel)
                throw new CheckpointFormatException(path, "has a persistent id in data.pkl that is not a tensor storage");
            var dtype = StorageDType(type);
            var entry = zip.GetEntry($"{prefix}data/{key}")
                ?? throw new CheckpointFormatException(path, $"storage '{prefix}data/{key}' is missing from the archive (truncated?)");
            long expected = numel * SafeTensors.ElementSize(dtype);
            if (entry.Length < expected)
                throw new CheckpointFormatException(path, $"storage '{entry.FullName}' has {entry.Length} bytes but {numel} elements of {dtype} need {expected} (truncated?)");
            return (entry, dtype, numel);
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
    }

    private sealed class Reader(string path, FileStream stream, ZipArchive zip, Dictionary<string, StoredTensor> tensors) : CheckpointReader(path)
    {
        private readonly Dictionary<string, TensorInfo> _infos = tensors.ToDictionary(e => e.Key, e => new TensorInfo(e.Value.DType, e.Value.Shape), StringComparer.Ordinal);

        public override IReadOnlyDictionary<string, TensorInfo> Tensors => _infos;

        /// <summary>Reads the tensor's storage into native memory; a tensor that views part of it gets its own copy.</summary>
        public override Tensor Read(string name)
        {
            var t = tensors[name];
            var storage = torch.empty([t.StorageElements], t.DType);
            try
            {
                using (var entry = OpenEntry(t.Storage)) Fill(storage, entry, Path, name);
                if (t.IsWholeStorage) return storage.view(t.Shape).DetachFromDisposeScope();
                using var view = storage.as_strided(t.Shape, t.Strides, t.Offset);
                return view.contiguous().clone().DetachFromDisposeScope();
            }
            finally
            {
                storage.Dispose();
            }
        }

        private Stream OpenEntry(ZipArchiveEntry entry)
        {
            try
            {
                return entry.Open();
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointFormatException(Path, $"entry '{entry.FullName}' cannot be read; the file is truncated or corrupt ({e.Message})", e);
            }
        }

        public override void Dispose()
        {
            zip.Dispose();
            stream.Dispose();
            base.Dispose();
        }
    }
}
