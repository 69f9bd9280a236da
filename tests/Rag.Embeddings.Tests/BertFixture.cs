using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rag.Retrieval.Tests;

/// <summary>The bert-tiny golden fixture (tests/data/bert-tiny) and copies of it with deliberate damage.</summary>
internal static class BertFixture
{
    public static string ModelDirectory { get; } = TestData.Path("bert-tiny");

    public sealed record Case(string Text, int[] InputIds, float[] Mean, float[] Cls);

    public static IReadOnlyList<Case> Cases { get; } = LoadCases();

    /// <summary>A temp copy of the model folder; <paramref name="editHeader"/> may rewrite the safetensors header.</summary>
    public static TempModel CopyModel(Action<JsonObject>? editHeader = null, params string[] omit)
    {
        var dir = Directory.CreateTempSubdirectory("bert-tiny-").FullName;
        foreach (var file in Directory.GetFiles(ModelDirectory))
        {
            var name = Path.GetFileName(file);
            if (omit.Contains(name)) continue;
            var target = Path.Combine(dir, name);
            if (name == "model.safetensors" && editHeader is not null) RewriteHeader(file, target, editHeader);
            else File.Copy(file, target);
        }
        return new TempModel(dir);
    }

    public sealed class TempModel(string directory) : IDisposable
    {
        public string Directory { get; } = directory;
        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>Renames every tensor key (e.g. adds a "bert." prefix); data offsets stay valid.</summary>
    public static Action<JsonObject> RenameKeys(Func<string, string> rename) => header =>
    {
        foreach (var (key, value) in header.ToList())
        {
            if (key == "__metadata__") continue;
            header.Remove(key);
            header[rename(key)] = value;
        }
    };

    private static void RewriteHeader(string source, string target, Action<JsonObject> edit)
    {
        var bytes = File.ReadAllBytes(source);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = JsonNode.Parse(bytes.AsSpan(8, headerLength))!.AsObject();
        edit(header);
        var newHeader = Encoding.UTF8.GetBytes(header.ToJsonString());
        using var output = File.Create(target);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)newHeader.Length);
        output.Write(length);
        output.Write(newHeader);
        output.Write(bytes.AsSpan(8 + headerLength));
    }

    private static IReadOnlyList<Case> LoadCases()
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(ModelDirectory, "expected.json")));
        return json.RootElement.EnumerateArray().Select(c => new Case(
            c.GetProperty("text").GetString()!,
            c.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            c.GetProperty("mean_pooled_normalized").EnumerateArray().Select(x => x.GetSingle()).ToArray(),
            c.GetProperty("cls_normalized").EnumerateArray().Select(x => x.GetSingle()).ToArray())).ToArray();
    }
}
