using Microsoft.Data.Sqlite;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Embedded;
using Rag.Retrieval.Search;

namespace Rag.Retrieval.Tests.Embedded;

public sealed class SqliteDocumentStoreContractTests : DocumentStoreContractTests
{
    private readonly string _directory = Scratch.Path("store-");

    protected override Task<IDocumentStore> CreateStoreAsync() => Task.FromResult<IDocumentStore>(SqliteDocumentStore.Open(_directory));

    private SqliteDocumentStore Sqlite => (SqliteDocumentStore)Store;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Cancelled_upsert_leaves_no_rows_and_the_previous_version_intact()
    {
        Assert.Equal(UpsertOutcome.Added, await Store.UpsertAsync(TextDocument("doc.txt", "v1", "original alpha", "original beta")));
        var before = (await Store.FindBySourceAsync("doc.txt"))!;

        using var cts = new CancellationTokenSource();
        Sqlite.AfterChunkInserted = ordinal => { if (ordinal == 1) cts.Cancel(); };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Store.UpsertAsync(TextDocument("doc.txt", "v2", "replacement one", "replacement two", "replacement three"), cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Store.UpsertAsync(TextDocument("fresh.txt", "v1", "never stored one", "never stored two", "x"), cts.Token));
        Sqlite.AfterChunkInserted = null;

        var after = (await Store.FindBySourceAsync("doc.txt"))!;
        Assert.Equal(before, after with { Tags = before.Tags });
        Assert.Equal(before.Tags, after.Tags);
        Assert.Equal(["original alpha", "original beta"], (await Store.GetChunksAsync(after.Id)).Select(c => c.Text));
        Assert.Null(await Store.FindBySourceAsync("fresh.txt"));
        Assert.Empty(await Store.SearchAsync(new SearchQuery("replacement stored", default, 5, SearchMode.Bm25)));
        Assert.Equal(2, (await Store.SearchAsync(new SearchQuery("original", default, 5, SearchMode.Bm25))).Count);
    }

    [Fact]
    public async Task Failure_after_chunk_inserts_rolls_back_and_the_store_stays_usable()
    {
        await Store.UpsertAsync(TextDocument("doc.txt", "v1", "original text"));
        Sqlite.AfterChunkInserted = ordinal => { if (ordinal == 2) throw new IOException("disk full (simulated)"); };
        await Assert.ThrowsAsync<IOException>(() => Store.UpsertAsync(TextDocument("doc.txt", "v2", "a", "b", "c", "d")));
        Sqlite.AfterChunkInserted = null;

        var doc = (await Store.FindBySourceAsync("doc.txt"))!;
        Assert.Equal("v1", doc.ContentHash);
        Assert.Equal(["original text"], (await Store.GetChunksAsync(doc.Id)).Select(c => c.Text));
        Assert.Equal(UpsertOutcome.Replaced, await Store.UpsertAsync(TextDocument("doc.txt", "v2", "a", "b")));
    }

    [Fact]
    public async Task Embedding_dimension_must_match_the_stored_vectors()
    {
        await Store.UpsertAsync(CorpusDocument(0));
        var odd = new DocumentInput("odd.txt", "h", null, [], [new ChunkInput(0, "odd", 1, 0, 3, new float[] { 1, 0, 0 })]);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store.UpsertAsync(odd));
        Assert.Contains("odd.txt", error.Message);
        Assert.Contains("3", error.Message);
        Assert.Contains($"{CorpusDimension}", error.Message);
        Assert.Null(await Store.FindBySourceAsync("odd.txt"));
    }

    [Fact]
    public async Task Data_persists_when_the_file_is_reopened()
    {
        var ids = await IngestCorpusAsync();
        var dense = await Store.SearchAsync(new SearchQuery("", Basis(2), 3, SearchMode.Dense));
        await Store.DisposeAsync();

        await using var reopened = SqliteDocumentStore.Open(_directory);
        Assert.Equal(Corpus.Length, (await reopened.ListDocumentsAsync(0, 100)).Count);
        Assert.Equal(ids["docs/space/mars.md"], (await reopened.FindBySourceAsync("docs/space/mars.md"))!.Id);
        Assert.Equal("docs/space/mars.md", (await reopened.SearchAsync(new SearchQuery("carbon", default, 1, SearchMode.Bm25)))[0].Source);
        Assert.Equal(dense, await reopened.SearchAsync(new SearchQuery("", Basis(2), 3, SearchMode.Dense)));
        Assert.Equal(UpsertOutcome.Unchanged, await reopened.UpsertAsync(CorpusDocument(2)));
        Store = SqliteDocumentStore.Open(_directory); // base class disposes this one
    }

    [Fact]
    public async Task Schema_version_is_recorded_once_and_an_unknown_version_is_refused()
    {
        await Store.UpsertAsync(TextDocument("a.txt", "h", "kept across reopen"));
        await Store.DisposeAsync();
        await SqliteDocumentStore.Open(_directory).DisposeAsync(); // reopening creates nothing twice

        var path = Path.Combine(_directory, "rag.db");
        void Sql(string sql, Action<SqliteDataReader>? read = null)
        {
            using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            Assert.True(reader.Read() || read is null);
            read?.Invoke(reader);
        }
        Sql("SELECT count(*), max(version) FROM schema_version",
            reader => Assert.Equal((1L, 1L), (reader.GetInt64(0), reader.GetInt64(1))));

        Sql("UPDATE schema_version SET version = 7");
        var error = Assert.Throws<InvalidOperationException>(() => SqliteDocumentStore.Open(_directory));
        Assert.Contains(path, error.Message);
        Assert.Contains("version 7", error.Message);

        Sql("UPDATE schema_version SET version = 1");
        Store = SqliteDocumentStore.Open(_directory); // the base class disposes this one
        Assert.NotNull(await Store.FindBySourceAsync("a.txt"));
    }

    [Fact]
    public async Task Concurrent_writers_and_readers_see_only_whole_documents()
    {
        // 64 random dimensions: no two chunks are near-duplicates, so every chunk can come back.
        const int writers = 4, documentsPerWriter = 10, chunksPerDocument = 3, dimension = 64;
        await Store.UpsertAsync(new DocumentInput("seed.txt", "h", null, [], [new ChunkInput(0, "seed", 1, 0, 4, RandomVector(new Random(0), dimension))]));
        var write = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var d = 0; d < documentsPerWriter; d++)
            {
                var chunks = Enumerable.Range(0, chunksPerDocument)
                    .Select(o => new ChunkInput(o, $"concurrent writer{w} doc{d} part{o}", 4, 0, 10, RandomVector(new Random(1000 * w + 10 * d + o + 1), dimension)))
                    .ToList();
                Assert.Equal(UpsertOutcome.Added, await Store.UpsertAsync(new DocumentInput($"concurrent/{w}/{d}.txt", "h", null, ["c"], chunks)));
            }
        }));
        var read = Enumerable.Range(0, 2).Select(r => Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                var hits = await Store.SearchAsync(new SearchQuery("concurrent", RandomVector(new Random(-i), dimension), 200, SearchMode.Hybrid));
                // A document is visible with all of its chunks or not at all.
                var keyword = await Store.SearchAsync(new SearchQuery("concurrent", default, 200, SearchMode.Bm25));
                Assert.All(keyword.GroupBy(h => h.DocumentId), g => Assert.Equal(chunksPerDocument, g.Count()));
                Assert.NotNull(hits);
            }
        }));
        await Task.WhenAll(write.Concat(read));

        var stored = await Store.ListDocumentsAsync(0, 1000);
        Assert.Equal(1 + writers * documentsPerWriter, stored.Count);
        var dense = await Store.SearchAsync(new SearchQuery("", RandomVector(new Random(0), dimension), 1000, SearchMode.Dense, new SearchFilter(Tags: ["c"])));
        Assert.Equal(writers * documentsPerWriter * chunksPerDocument, dense.Count);
    }

    [Fact]
    public async Task Empty_allow_lists_allow_nothing()
    {
        await IngestCorpusAsync();
        foreach (var filter in new[] { new SearchFilter(DocumentIds: []), new SearchFilter(Tags: []) })
            foreach (var mode in new[] { SearchMode.Bm25, SearchMode.Dense, SearchMode.Hybrid })
                Assert.Empty(await Store.SearchAsync(new SearchQuery("cats dogs mars", Basis(0), 10, mode, filter)));
    }

    [Fact]
    public async Task A_k_beyond_the_corpus_returns_every_chunk_once()
    {
        await IngestCorpusAsync();
        var chunks = Corpus.Sum(c => c.Chunks.Length);
        foreach (var mode in new[] { SearchMode.Dense, SearchMode.Hybrid })
        {
            var hits = await Store.SearchAsync(new SearchQuery("the", Basis(0), int.MaxValue, mode));
            Assert.Equal(chunks, hits.Select(h => h.ChunkId).Distinct().Count());
            Assert.Equal(chunks, hits.Count);
        }
    }

    [Fact]
    public async Task Loaded_dense_index_follows_replacements_and_deletions()
    {
        var ids = await IngestCorpusAsync();
        Assert.Equal("docs/space/mars.md", (await Store.SearchAsync(new SearchQuery("", Basis(2), 1, SearchMode.Dense)))[0].Source);

        // Mars now points along basis 7, where no other document points.
        var moved = CorpusDocument(2, hash: "v2") with
        {
            Chunks = [new ChunkInput(0, "Mars moved.", 2, 0, 11, Basis(7))],
        };
        Assert.Equal(UpsertOutcome.Replaced, await Store.UpsertAsync(moved));
        var hit = (await Store.SearchAsync(new SearchQuery("", Basis(7), 1, SearchMode.Dense)))[0];
        Assert.Equal(("docs/space/mars.md", "Mars moved."), (hit.Source, hit.Text));
        Assert.Equal(1.0, hit.Score, 5);

        Assert.True(await Store.DeleteDocumentAsync(ids["docs/space/mars.md"]));
        var all = await Store.SearchAsync(new SearchQuery("", Basis(7), 20, SearchMode.Dense));
        Assert.DoesNotContain(all, h => h.Source == "docs/space/mars.md");
        Assert.Equal(Corpus.Sum(c => c.Chunks.Length) - 1, all.Count);
    }

    [Fact]
    public async Task Hybrid_equals_rrf_of_the_candidate_lists()
    {
        await IngestCorpusAsync();
        const int k = 3, candidates = k * 2; // default CandidateMultiplier
        var text = "red planet storm purr";
        var vector = Basis(3);
        var bm25 = await Store.SearchAsync(new SearchQuery(text, default, candidates, SearchMode.Bm25));
        var dense = await Store.SearchAsync(new SearchQuery("", vector, candidates, SearchMode.Dense));
        var hybrid = await Store.SearchAsync(new SearchQuery(text, vector, k, SearchMode.Hybrid));

        // The store fuses its raw candidate lists and collapses near-duplicates afterwards, so with tied
        // scores the exact members can differ from fusing the already-collapsed public lists; what must
        // hold: k hits, all drawn from the two candidate lists, ranked by an RRF score no list alone exceeds.
        Assert.Equal(k, hybrid.Count);
        var candidateIds = bm25.Concat(dense).Select(h => h.ChunkId).ToHashSet();
        Assert.All(hybrid, h => Assert.Contains(h.ChunkId, candidateIds));
        Assert.Equal(hybrid.OrderByDescending(h => h.Score).Select(h => h.ChunkId), hybrid.Select(h => h.ChunkId));
        Assert.All(hybrid, h => Assert.InRange(h.Score, 1.0 / (60 + candidates), 2.0 / 61));
    }

    [Fact]
    public async Task Identical_chunk_texts_collapse_to_the_best_hit()
    {
        await Store.UpsertAsync(TextDocument("a.txt", "h", "the same boilerplate footer"));
        await Store.UpsertAsync(TextDocument("b.txt", "h", "the  same boilerplate\nfooter"));
        await Store.UpsertAsync(TextDocument("c.txt", "h", "a different boilerplate text"));
        var hits = await Store.SearchAsync(new SearchQuery("boilerplate footer", default, 5, SearchMode.Bm25));
        Assert.Equal(2, hits.Count);
        Assert.Equal("c.txt", hits[1].Source);
    }

    [Fact]
    public async Task Rows_are_read_past_the_first_page_when_duplicates_fill_it()
    {
        for (var i = 0; i < 20; i++) await Store.UpsertAsync(TextDocument($"dup{i:D2}.txt", "h", "alpha alpha alpha"));
        for (var i = 0; i < 14; i++) await Store.UpsertAsync(TextDocument($"distinct{i:D2}.txt", "h", $"alpha and a longer tail of words, number {i}"));

        // K = 16 asks the ranker for 32: the twenty copies, then distinct00..11 (equal scores, older first).
        // The first page of 16 rows holds only copies, so a second page must be read to keep more than one hit.
        var hits = await Store.SearchAsync(new SearchQuery("alpha", default, 16, SearchMode.Bm25));
        Assert.Equal(["dup00.txt", .. Enumerable.Range(0, 12).Select(i => $"distinct{i:D2}.txt")], hits.Select(h => h.Source));
    }
}
