using Rag.Retrieval.Abstractions;

namespace Rag.Retrieval.Tests;

/// <summary>Behaviour every <see cref="IDocumentStore"/> must show; a store's test class derives and supplies the store.</summary>
public abstract class DocumentStoreContractTests : IAsyncLifetime
{
    protected const int CorpusDimension = 8;
    protected IDocumentStore Store { get; set; } = null!;

    protected abstract Task<IDocumentStore> CreateStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    /// <summary>Six short documents; document i's chunks point along basis vector i (plus a small tilt).</summary>
    protected static readonly (string Source, string Title, string[] Tags, string[] Chunks)[] Corpus =
    [
        ("docs/animals/cats.md", "Cats", ["animals", "pets"], ["Cats are small domesticated carnivores that purr and hunt mice.", "A cat sleeps most of the day."]),
        ("docs/animals/dogs.md", "Dogs", ["animals", "pets"], ["Dogs are loyal companions bred for herding, guarding and fetching sticks."]),
        ("docs/space/mars.md", "Mars", ["space"], ["Mars is the red planet; its thin atmosphere is mostly carbon dioxide."]),
        ("docs/space/jupiter.md", "Jupiter", ["space"], ["Jupiter is a gas giant whose Great Red Spot is a storm larger than Earth."]),
        ("notes/cooking/bread.md", "Bread", ["cooking"], ["Sourdough bread rises slowly thanks to wild yeast.", "Serve it with a crème brûlée for dessert."]),
        ("notes/programming/csharp.md", "C#", ["programming"], ["C# async methods return a Task and use await for asynchronous I/O."]),
    ];

    protected static DocumentInput CorpusDocument(int i, string hash = "v1")
    {
        var (source, title, tags, chunks) = Corpus[i];
        var offset = 0;
        var inputs = chunks.Select((text, ordinal) =>
        {
            var vector = new float[CorpusDimension];
            vector[i] = 1f;
            vector[(i + 1) % CorpusDimension] = ordinal; // the second chunk leans away, so it is no near-duplicate
            var chunk = new ChunkInput(ordinal, text, text.Split(' ').Length, offset, offset + text.Length, vector);
            offset += text.Length + 1;
            return chunk;
        }).ToList();
        return new DocumentInput(source, hash, title, tags, inputs);
    }

    protected async Task<Dictionary<string, string>> IngestCorpusAsync()
    {
        var ids = new Dictionary<string, string>();
        for (var i = 0; i < Corpus.Length; i++)
        {
            Assert.Equal(UpsertOutcome.Added, await Store.UpsertAsync(CorpusDocument(i)));
            ids[Corpus[i].Source] = (await Store.FindBySourceAsync(Corpus[i].Source))!.Id;
        }
        return ids;
    }

    protected static DocumentInput TextDocument(string source, string hash, params string[] texts) =>
        new(source, hash, null, [], texts.Select((t, i) => new ChunkInput(i, t, 1, 0, t.Length, ReadOnlyMemory<float>.Empty)).ToList());

    [Fact]
    public async Task Upsert_reports_added_unchanged_and_replaced()
    {
        Assert.Equal(UpsertOutcome.Added, await Store.UpsertAsync(TextDocument("a.txt", "h1", "first version", "second chunk")));
        var added = await Store.FindBySourceAsync("a.txt");
        Assert.NotNull(added);
        Assert.Equal(2, added.ChunkCount);

        Assert.Equal(UpsertOutcome.Unchanged, await Store.UpsertAsync(TextDocument("a.txt", "h1", "ignored text")));
        Assert.Equal(["first version", "second chunk"], (await Store.GetChunksAsync(added.Id)).Select(c => c.Text));

        Assert.Equal(UpsertOutcome.Replaced, await Store.UpsertAsync(TextDocument("a.txt", "h2", "rewritten")));
        var replaced = await Store.FindBySourceAsync("a.txt");
        Assert.NotNull(replaced);
        Assert.Equal(added.Id, replaced.Id);
        Assert.Equal("h2", replaced.ContentHash);
        Assert.Equal(1, replaced.ChunkCount);
        Assert.True(replaced.UpdatedAt >= added.UpdatedAt);
        Assert.Equal(added.CreatedAt, replaced.CreatedAt);
        var chunks = await Store.GetChunksAsync(added.Id);
        Assert.Equal("rewritten", Assert.Single(chunks).Text);

        // The old text must be gone from the keyword index too.
        Assert.Empty(await Store.SearchAsync(new SearchQuery("first", default, 5, SearchMode.Bm25)));
        Assert.Single(await Store.SearchAsync(new SearchQuery("rewritten", default, 5, SearchMode.Bm25)));
    }

    [Fact]
    public async Task Update_tags_changes_what_tag_filters_find_and_keeps_the_chunks()
    {
        var ids = await IngestCorpusAsync();
        var mars = ids["docs/space/mars.md"];
        var before = (await Store.GetDocumentAsync(mars))!;

        Assert.True(await Store.UpdateTagsAsync(mars, ["planets", "red", "red"]));

        var after = (await Store.GetDocumentAsync(mars))!;
        Assert.Equal(["planets", "red"], after.Tags);
        Assert.Equal((before.ContentHash, before.ChunkCount, before.CreatedAt), (after.ContentHash, after.ChunkCount, after.CreatedAt));
        Assert.True(after.UpdatedAt >= before.UpdatedAt);
        Assert.Equal((await Store.GetChunksAsync(mars)).Select(c => c.Id), (await Store.GetChunksAsync(before.Id)).Select(c => c.Id));
        const string text = "the red planet storm";
        foreach (var mode in new[] { SearchMode.Bm25, SearchMode.Dense })
        {
            var planets = await Store.SearchAsync(new SearchQuery(text, Basis(2), 10, mode, new SearchFilter(Tags: ["planets"])));
            Assert.Equal(["docs/space/mars.md"], planets.Select(h => h.Source).Distinct());
            var space = await Store.SearchAsync(new SearchQuery(text, Basis(2), 10, mode, new SearchFilter(Tags: ["space"])));
            Assert.Equal(["docs/space/jupiter.md"], space.Select(h => h.Source).Distinct());
        }
        Assert.False(await Store.UpdateTagsAsync(Guid.NewGuid().ToString(), ["x"]));
    }

    [Fact]
    public async Task Get_list_and_delete_documents()
    {
        var ids = await IngestCorpusAsync();
        var cats = await Store.GetDocumentAsync(ids["docs/animals/cats.md"]);
        Assert.NotNull(cats);
        Assert.Equal("Cats", cats.Title);
        Assert.Equal(["animals", "pets"], cats.Tags);
        Assert.Equal(2, cats.ChunkCount);
        var chunks = await Store.GetChunksAsync(cats.Id);
        Assert.Equal([0, 1], chunks.Select(c => c.Ordinal));
        Assert.All(chunks, c => Assert.Equal(cats.Id, c.DocumentId));

        var all = await Store.ListDocumentsAsync(0, 100);
        Assert.Equal(Corpus.Select(c => c.Source).Order(StringComparer.Ordinal), all.Select(d => d.Source));
        var page = await Store.ListDocumentsAsync(2, 2);
        Assert.Equal(all.Skip(2).Take(2).Select(d => d.Id), page.Select(d => d.Id));

        Assert.True(await Store.DeleteDocumentAsync(cats.Id));
        Assert.False(await Store.DeleteDocumentAsync(cats.Id));
        Assert.Null(await Store.GetDocumentAsync(cats.Id));
        Assert.Null(await Store.FindBySourceAsync("docs/animals/cats.md"));
        Assert.Empty(await Store.GetChunksAsync(cats.Id));
        Assert.Empty(await Store.SearchAsync(new SearchQuery("purr", default, 5, SearchMode.Bm25)));
        Assert.DoesNotContain(await Store.SearchAsync(new SearchQuery("", Basis(0), 10, SearchMode.Dense)), h => h.DocumentId == cats.Id);
        Assert.Equal(Corpus.Length - 1, (await Store.ListDocumentsAsync(0, 100)).Count);
        Assert.True(await Store.PingAsync());
    }

    [Theory]
    [InlineData("purr", "docs/animals/cats.md")]
    [InlineData("herding sticks", "docs/animals/dogs.md")]
    [InlineData("carbon dioxide atmosphere", "docs/space/mars.md")]
    [InlineData("Great Red Spot storm", "docs/space/jupiter.md")]
    [InlineData("wild yeast sourdough", "notes/cooking/bread.md")]
    [InlineData("creme brulee", "notes/cooking/bread.md")]
    [InlineData("await Task", "notes/programming/csharp.md")]
    public async Task Bm25_ranks_the_known_answer_first(string text, string expectedSource)
    {
        await IngestCorpusAsync();
        var hits = await Store.SearchAsync(new SearchQuery(text, default, 3, SearchMode.Bm25));
        Assert.NotEmpty(hits);
        Assert.Equal(expectedSource, hits[0].Source);
        Assert.Equal(Corpus.Single(c => c.Source == expectedSource).Title, hits[0].Title);
        Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score), "hits must be best first");
    }

    [Theory]
    [InlineData("C# \"x\" AND -y NEAR(")]
    [InlineData("\"unterminated")]
    [InlineData("*** OR AND NOT ^ : {}")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("col:value (a OR b")]
    public async Task Hostile_query_text_never_throws(string text)
    {
        await IngestCorpusAsync();
        var hits = await Store.SearchAsync(new SearchQuery(text, default, 5, SearchMode.Bm25));
        Assert.NotNull(hits);
        if (text.Contains("C#")) Assert.Contains(hits, h => h.Source == "notes/programming/csharp.md");
    }

    [Fact]
    public async Task Filters_restrict_by_tags_source_prefix_and_document_ids()
    {
        var ids = await IngestCorpusAsync();
        const string text = "the red planet storm cats dogs bread Task"; // matches every document
        async Task<HashSet<string>> Sources(SearchFilter filter, SearchMode mode = SearchMode.Bm25) =>
            (await Store.SearchAsync(new SearchQuery(text, Basis(0), 20, mode, filter))).Select(h => h.Source).ToHashSet();

        Assert.Equal(Corpus.Length, (await Sources(new SearchFilter())).Count);
        Assert.Equal(["docs/space/mars.md", "docs/space/jupiter.md"], await Sources(new SearchFilter(Tags: ["space"])));
        Assert.Equal(["docs/space/mars.md", "docs/space/jupiter.md", "notes/cooking/bread.md"],
            await Sources(new SearchFilter(Tags: ["space", "cooking"])));
        Assert.Equal(["notes/cooking/bread.md", "notes/programming/csharp.md"], await Sources(new SearchFilter(SourcePrefix: "notes/")));
        Assert.Empty(await Sources(new SearchFilter(SourcePrefix: "NOTES/")));
        Assert.Empty(await Sources(new SearchFilter(SourcePrefix: "docs/%")));
        Assert.Equal(["docs/animals/dogs.md"], await Sources(new SearchFilter(DocumentIds: [ids["docs/animals/dogs.md"]])));
        Assert.Equal(["docs/animals/dogs.md"],
            await Sources(new SearchFilter(Tags: ["animals"], SourcePrefix: "docs/animals/d")));

        // Dense honours the same filters.
        Assert.Equal(["docs/space/mars.md", "docs/space/jupiter.md"], await Sources(new SearchFilter(Tags: ["space"]), SearchMode.Dense));
        Assert.Equal(["docs/animals/dogs.md"],
            await Sources(new SearchFilter(DocumentIds: [ids["docs/animals/dogs.md"]]), SearchMode.Dense));
    }

    [Fact]
    public async Task Filters_restrict_by_update_time()
    {
        await Store.UpsertAsync(TextDocument("old.txt", "h", "shared word, older"));
        await Task.Delay(30);
        await Store.UpsertAsync(TextDocument("new.txt", "h", "shared word, newer"));
        var old = (await Store.FindBySourceAsync("old.txt"))!;
        var @new = (await Store.FindBySourceAsync("new.txt"))!;
        Assert.True(@new.UpdatedAt > old.UpdatedAt);

        async Task<string[]> Sources(SearchFilter filter) =>
            (await Store.SearchAsync(new SearchQuery("shared", default, 5, SearchMode.Bm25, filter))).Select(h => h.Source).Order().ToArray();

        Assert.Equal(["new.txt"], await Sources(new SearchFilter(UpdatedFrom: @new.UpdatedAt)));
        Assert.Equal(["old.txt"], await Sources(new SearchFilter(UpdatedTo: old.UpdatedAt)));
        Assert.Equal(["new.txt", "old.txt"], await Sources(new SearchFilter(UpdatedFrom: old.UpdatedAt, UpdatedTo: @new.UpdatedAt)));
        Assert.Empty(await Sources(new SearchFilter(UpdatedFrom: @new.UpdatedAt.AddMinutes(1))));
    }

    [Fact]
    public async Task Dense_top_k_equals_brute_force()
    {
        const int documents = 60, chunksPerDocument = 5, dimension = 16, k = 10;
        var random = new Random(1234);
        var vectors = new Dictionary<(string Source, int Ordinal), float[]>();
        for (var d = 0; d < documents; d++)
        {
            var source = $"random/{d:D3}.txt";
            var chunks = new List<ChunkInput>();
            for (var o = 0; o < chunksPerDocument; o++)
            {
                var v = RandomVector(random, dimension);
                vectors[(source, o)] = v;
                chunks.Add(new ChunkInput(o, $"random chunk {d} {o}", 4, 0, 10, v));
            }
            await Store.UpsertAsync(new DocumentInput(source, "h", null, [], chunks));
        }

        for (var q = 0; q < 5; q++)
        {
            var query = RandomVector(random, dimension);
            var expected = vectors
                .Select(e => (e.Key, Score: Cosine(query, e.Value)))
                .OrderByDescending(e => e.Score).Take(k).ToList();
            var hits = await Store.SearchAsync(new SearchQuery("", query, k, SearchMode.Dense));
            Assert.Equal(expected.Select(e => e.Key), hits.Select(h => (h.Source, h.Ordinal)));
            foreach (var (e, hit) in expected.Zip(hits)) Assert.Equal(e.Score, hit.Score, 4);
        }

        var wrong = new float[dimension + 1];
        wrong[0] = 1;
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store.SearchAsync(new SearchQuery("", wrong, k, SearchMode.Dense)));
        Assert.Contains($"{dimension + 1}", error.Message);
        Assert.Contains($"{dimension}", error.Message);
    }

    [Fact]
    public async Task Hybrid_returns_the_union_of_keyword_and_dense_hits()
    {
        await IngestCorpusAsync();
        // "purr" only matches cats by keyword; the vector points at Jupiter, which has no keyword match.
        var hits = await Store.SearchAsync(new SearchQuery("purr", Basis(3), 3, SearchMode.Hybrid));
        Assert.Equal("docs/animals/cats.md", hits[0].Source); // ranked by both lists
        Assert.Contains(hits, h => h.Source == "docs/space/jupiter.md");
        Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score));
        Assert.Equal(hits.Count, hits.Select(h => h.ChunkId).Distinct().Count());
    }

    [Fact]
    public async Task Hybrid_with_one_input_ranks_like_that_input()
    {
        await IngestCorpusAsync();
        var denseOnly = await Store.SearchAsync(new SearchQuery("", Basis(4), 3, SearchMode.Hybrid));
        var dense = await Store.SearchAsync(new SearchQuery("", Basis(4), 3, SearchMode.Dense));
        Assert.Equal(dense.Select(h => h.ChunkId), denseOnly.Select(h => h.ChunkId));

        var keywordOnly = await Store.SearchAsync(new SearchQuery("red planet", default, 3, SearchMode.Hybrid));
        var keyword = await Store.SearchAsync(new SearchQuery("red planet", default, 3, SearchMode.Bm25));
        Assert.Equal(keyword.Select(h => h.ChunkId), keywordOnly.Select(h => h.ChunkId));

        await Assert.ThrowsAsync<ArgumentException>(() => Store.SearchAsync(new SearchQuery("text", default, 3, SearchMode.Dense)));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.SearchAsync(new SearchQuery("text", default, 0, SearchMode.Bm25)));
    }

    [Fact]
    public async Task Invalid_documents_are_rejected_with_the_source_named()
    {
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => Store.UpsertAsync(TextDocument(" ", "h", "x")));
        Assert.Contains("source", empty.Message);

        var negative = new DocumentInput("neg.txt", "h", null, [], [new ChunkInput(-1, "x", 1, 0, 1, default)]);
        Assert.Contains("neg.txt", (await Assert.ThrowsAsync<ArgumentException>(() => Store.UpsertAsync(negative))).Message);

        var duplicate = new DocumentInput("dup.txt", "h", null, [], [new ChunkInput(0, "x", 1, 0, 1, default), new ChunkInput(0, "y", 1, 1, 2, default)]);
        Assert.Contains("dup.txt", (await Assert.ThrowsAsync<ArgumentException>(() => Store.UpsertAsync(duplicate))).Message);

        Assert.Empty(await Store.ListDocumentsAsync(0, 10));
    }

    protected static float[] Basis(int i)
    {
        var v = new float[CorpusDimension];
        v[i] = 1f;
        return v;
    }

    protected static float[] RandomVector(Random random, int dimension) =>
        Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    protected static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }
}
