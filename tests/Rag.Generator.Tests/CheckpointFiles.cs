using System.IO.Compression;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace Rag.Generator.Tests;

/// <summary>Builds damaged or hand-made checkpoint files in a temporary folder for the bad-input tests.</summary>
internal static class CheckpointFiles
{
    public static string NewPath(string extension) => Scratch.Path("checkpoint-", extension);

    public static string FixturePth => TestData.Path("rwkv7", "rwkv7-tiny-a.pth");

    /// <summary>A copy of <paramref name="sourcePth"/> with data.pkl's bytes replaced by <paramref name="edit"/>.</summary>
    public static string WithEditedPickle(string sourcePth, Func<byte[], byte[]> edit)
    {
        var path = NewPath(".pth");
        using var source = ZipFile.OpenRead(sourcePth);
        using var target = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var entry in source.Entries)
        {
            using var input = entry.Open();
            using var buffer = new MemoryStream();
            input.CopyTo(buffer);
            var bytes = entry.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) ? edit(buffer.ToArray()) : buffer.ToArray();
            using var output = target.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
            output.Write(bytes);
        }
        return path;
    }

    /// <summary>A .pth-shaped zip whose data.pkl is exactly <paramref name="pickle"/>.</summary>
    public static string PthWithPickle(byte[] pickle)
    {
        var path = NewPath(".pth");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using var output = zip.CreateEntry("archive/data.pkl").Open();
        output.Write(pickle);
        return path;
    }

    public static byte[] Replace(byte[] bytes, string from, string to)
    {
        var text = Encoding.Latin1.GetString(bytes);
        Assert.Contains(from, text);
        return Encoding.Latin1.GetBytes(text.Replace(from, to));
    }

    /// <summary>Writes fp32 tensors in the safetensors format.</summary>
    public static string WriteSafeTensors(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var path = NewPath(".safetensors");
        var header = new Dictionary<string, object>();
        var data = new MemoryStream();
        foreach (var (name, tensor) in tensors)
        {
            var bytes = tensor.to(ScalarType.Float32).contiguous().bytes.ToArray();
            header[name] = new { dtype = "F32", shape = tensor.shape, data_offsets = new[] { data.Length, data.Length + bytes.Length } };
            data.Write(bytes);
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((ulong)json.Length));
        file.Write(json);
        data.Position = 0;
        data.CopyTo(file);
        return path;
    }
}
