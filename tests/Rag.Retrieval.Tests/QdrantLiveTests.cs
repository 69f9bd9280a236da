using Rag.Retrieval.Abstractions;

namespace Rag.Retrieval.Tests;

/// <summary>End-to-end against a real Qdrant server (env QDRANT_URL); skipped at runtime without one.</summary>
public sealed class QdrantLiveTests
{
    private static DocumentInput Document(string source, string hash, params (string Text, float[] Vector)[] chunks) => new(
        source, hash, "T", ["tag-" + source],
        chunks.Select((c, i) => new ChunkInput(i, c.Text, c.Text.Split(' ').Length, 0, c.Text.Length, c.Vector)).ToArray());

    [SkippableFact]
    public async Task Round_trip_add_search_replace_delete()
    {
        QdrantLiveCollection.SkipUnlessConfigured();
        await using var live = new QdrantLiveCollection(vectorSize: 2);
        var store = live.Store;
        Assert.True(await store.PingAsync());

        var a = Document("a.md", "h1", ("qdrant stores vectors", [1, 0]), ("payload filters narrow results", [0.8f, 0.2f]));
        var b = Document("b.md", "h1", ("paris has a tower", [0, 1]));
        Assert.Equal(UpsertOutcome.Added, await store.UpsertAsync(a));
        Assert.Equal(UpsertOutcome.Added, await store.UpsertAsync(b));
        Assert.Equal(UpsertOutcome.Unchanged, await store.UpsertAsync(a));

        var info = await store.FindBySourceAsync("a.md");
        Assert.NotNull(info);
        Assert.Equal(2, info.ChunkCount);
        Assert.Equal(["qdrant stores vectors", "payload filters narrow results"], (await store.GetChunksAsync(info.Id)).Select(c => c.Text));
        Assert.Equal(2, (await store.ListDocumentsAsync(0, 10)).Count);

        Assert.Equal("b.md", (await store.SearchAsync(new SearchQuery("tower", default, 1, SearchMode.Bm25)))[0].Source);
        Assert.Equal("b.md", (await store.SearchAsync(new SearchQuery("", new float[] { 0, 1 }, 1, SearchMode.Dense)))[0].Source);
        var hybrid = await store.SearchAsync(new SearchQuery("vectors", new float[] { 1, 0 }, 3, SearchMode.Hybrid));
        Assert.Equal("qdrant stores vectors", hybrid[0].Text);
        var filtered = await store.SearchAsync(new SearchQuery("", new float[] { 1, 0 }, 3, SearchMode.Dense, new SearchFilter(SourcePrefix: "b.")));
        Assert.Equal(["b.md"], filtered.Select(h => h.Source));

        Assert.Equal(UpsertOutcome.Replaced, await store.UpsertAsync(Document("a.md", "h2", ("only one chunk now", [1, 0]))));
        Assert.Equal(["only one chunk now"], (await store.GetChunksAsync(info.Id)).Select(c => c.Text));
        Assert.DoesNotContain(await store.SearchAsync(new SearchQuery("payload", default, 5, SearchMode.Bm25)), h => h.Source == "a.md");

        Assert.True(await store.DeleteDocumentAsync(info.Id));
        Assert.False(await store.DeleteDocumentAsync(info.Id));
        Assert.Null(await store.FindBySourceAsync("a.md"));
    }
}
