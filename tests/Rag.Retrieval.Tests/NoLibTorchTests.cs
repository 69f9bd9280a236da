namespace Rag.Retrieval.Tests;

/// <summary>
/// BM25-only use needs no libtorch: this project references Rag.Retrieval alone (the BERT encoder and the generator
/// are other projects), so its output is what a BM25-only consumer gets, and the store tests here search in it.
/// </summary>
public sealed class NoLibTorchTests
{
    [Fact]
    public void A_retrieval_only_output_carries_no_libtorch()
    {
        var files = Directory.EnumerateFiles(AppContext.BaseDirectory, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();

        Assert.Contains("Rag.Retrieval.dll", files);
        Assert.DoesNotContain(files, name => name!.StartsWith("libtorch", StringComparison.Ordinal) || name.StartsWith("libc10", StringComparison.Ordinal));
        Assert.DoesNotContain("Rag.Generator.dll", files);
        Assert.DoesNotContain("Rag.Embeddings.dll", files);
    }
}
