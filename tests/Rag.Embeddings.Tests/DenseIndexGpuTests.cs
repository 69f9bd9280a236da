using Rag.Retrieval.Embedded;

namespace Rag.Retrieval.Tests.Embedded;

/// <summary>
/// The embedded store's GPU dense index. It lives with the encoder's tests because this project carries libtorch;
/// Rag.Retrieval's own tests run without it (BM25 needs none).
/// </summary>
public sealed class DenseIndexGpuTests
{
    private static float[] Normalised(float[] v)
    {
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }

    [SkippableFact]
    public void Cuda_index_ranks_like_the_cpu_scan()
    {
        Skip.IfNot(TorchSharp.torch.cuda.is_available(), "CUDA is not available here: the GPU dense index is not exercised");
        var random = new Random(3);
        float[] Random() => Normalised(Enumerable.Range(0, 16).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());
        using var cpu = new DenseIndex();
        using var gpu = new DenseIndex(TorchSharp.torch.CUDA);
        for (var d = 0; d < 300; d++)
        {
            var rows = Enumerable.Range(0, 3).Select(o => new DenseRow($"d{d}#{o}", d * 3 + o, Random())).ToList();
            cpu.SetDocument($"d{d}", rows);
            gpu.SetDocument($"d{d}", rows);
        }
        gpu.RemoveDocument("d7");
        cpu.RemoveDocument("d7");
        var allowed = new HashSet<string> { "d1", "d2", "d3", "d100" };
        var query = Random();

        Assert.Equal(cpu.TopK(query, 10).Select(m => m.ChunkId), gpu.TopK(query, 10).Select(m => m.ChunkId));
        Assert.Equal(cpu.TopK(query, 20, allowed).Select(m => m.ChunkId), gpu.TopK(query, 20, allowed).Select(m => m.ChunkId));
    }
}
