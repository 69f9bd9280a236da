using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Qdrant;

namespace Rag.Retrieval.Tests;

/// <summary>The JSON the Qdrant store sends, checked against Qdrant's REST shapes with a recording handler.</summary>
public sealed class QdrantDocumentStoreRequestTests
{
    private const string Points = "/collections/rag/points?wait=true";
    private readonly QdrantTestServer _server = new();

    private QdrantDocumentStore CreateStore(Action<QdrantOptions>? configure = null)
    {
        var options = new QdrantOptions
        {
            Url = "http://qdrant.test:6333",
            VectorSize = 3,
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            MaxRetryAttempts = 3,
        };
        configure?.Invoke(options);
        return new QdrantDocumentStore(new HttpClient(_server), Options.Create(options));
    }

    private static DocumentInput Document(int chunks = 2, string hash = "hash-1", string source = "docs/guide.md") => new(
        source, hash, "Guide", ["manual", "v2"],
        Enumerable.Range(0, chunks).Select(i => new ChunkInput(i, $"alpha beta alpha {i}", 4, i * 20, i * 20 + 17, new float[] { i, 1, 0 })).ToArray());

    private static void AssertJson(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {JsonNode.Parse(expected)!.ToJsonString()}\nactual   {actual?.ToJsonString()}");

    private void AnswerDocumentRecord(string hash, string created = "2025-01-02T03:04:05+00:00") =>
        _server.Respond(HttpMethod.Post, "/collections/rag/points", r => QdrantTestServer.Ok($$$"""
            [{"id":"{{{r.Json["ids"]![0]}}}","payload":{"kind":"document","document_id":"{{{r.Json["ids"]![0]}}}","source":"docs/guide.md",
              "title":"Guide","tags":["manual"],"content_hash":"{{{hash}}}","created_at":"{{{created}}}","updated_at":"{{{created}}}","chunk_count":2}}]
            """));

    [Fact]
    public async Task Creates_collection_with_named_dense_and_idf_sparse_vectors()
    {
        await using var store = CreateStore(o => o.Distance = "Dot");
        await store.UpsertAsync(Document());
        var create = Assert.Single(_server.To(HttpMethod.Put, "/collections/rag"));
        AssertJson("""{"vectors":{"dense":{"size":3,"distance":"Dot"}},"sparse_vectors":{"bm25":{"modifier":"idf"}}}""", create.Json);
    }

    [Fact]
    public async Task Creates_keyword_and_datetime_payload_indexes()
    {
        await using var store = CreateStore();
        await store.UpsertAsync(Document());
        var indexes = _server.To(HttpMethod.Put, "/collections/rag/index?wait=true").Select(r => r.Json.ToJsonString()).Order().ToArray();
        string[] expected =
        [
            """{"field_name":"document_id","field_schema":"keyword"}""",
            """{"field_name":"kind","field_schema":"keyword"}""",
            """{"field_name":"source","field_schema":"keyword"}""",
            """{"field_name":"source_prefixes","field_schema":"keyword"}""",
            """{"field_name":"tags","field_schema":"keyword"}""",
            """{"field_name":"updated_at","field_schema":"datetime"}""",
        ];
        Assert.Equal(expected.Order(), indexes);
    }

    [Fact]
    public async Task Existing_collection_is_used_as_it_is_and_checked_once()
    {
        _server.CollectionExists = true;
        await using var store = CreateStore();
        await store.UpsertAsync(Document());
        await store.FindBySourceAsync("docs/other.md");
        Assert.Empty(_server.To(HttpMethod.Put, "/collections/rag"));
        Assert.Empty(_server.To(HttpMethod.Put, "/collections/rag/index?wait=true"));
        Assert.Single(_server.To(HttpMethod.Get, "/collections/rag"));
    }

    [Fact]
    public async Task Upsert_sends_chunks_in_batches_with_wait_then_the_document_record()
    {
        _server.CollectionExists = true;
        await using var store = CreateStore(o => o.UpsertBatchSize = 2);
        Assert.Equal(UpsertOutcome.Added, await store.UpsertAsync(Document(chunks: 5)));

        var upserts = _server.To(HttpMethod.Put, Points).Select(r => r.Json["points"]!.AsArray()).ToArray();
        Assert.Equal([2, 2, 1, 1], upserts.Select(p => p.Count));
        var chunk = upserts[0][1]!;
        var documentId = upserts[3][0]!["id"]!.GetValue<string>();
        Assert.True(Guid.TryParse(chunk["id"]!.GetValue<string>(), out _));
        AssertJson("[1,1,0]", chunk["vector"]!["dense"]);
        Assert.Equal(chunk["vector"]!["bm25"]!["indices"]!.AsArray().Count, chunk["vector"]!["bm25"]!["values"]!.AsArray().Count);

        var payload = chunk["payload"]!.AsObject();
        Assert.Equal("chunk", payload["kind"]!.GetValue<string>());
        Assert.Equal(documentId, payload["document_id"]!.GetValue<string>());
        Assert.Equal("docs/guide.md", payload["source"]!.GetValue<string>());
        Assert.Equal("Guide", payload["title"]!.GetValue<string>());
        AssertJson("""["manual","v2"]""", payload["tags"]);
        Assert.Equal(1, payload["ordinal"]!.GetValue<int>());
        Assert.Equal("alpha beta alpha 1", payload["text"]!.GetValue<string>());
        Assert.Equal(4, payload["token_count"]!.GetValue<int>());
        Assert.Equal(20, payload["start_offset"]!.GetValue<int>());
        Assert.Equal(37, payload["end_offset"]!.GetValue<int>());
        Assert.Equal("hash-1", payload["content_hash"]!.GetValue<string>());
        Assert.True(DateTimeOffset.TryParse(payload["updated_at"]!.GetValue<string>(), out _));
        Assert.Equal("docs/guide.md".Length, payload["source_prefixes"]!.AsArray().Count);
        Assert.Equal("docs/", payload["source_prefixes"]![4]!.GetValue<string>());

        var record = upserts[3][0]!;
        AssertJson("{}", record["vector"]);
        Assert.Equal("document", record["payload"]!["kind"]!.GetValue<string>());
        Assert.Equal(5, record["payload"]!["chunk_count"]!.GetValue<int>());
        Assert.Empty(_server.To(HttpMethod.Post, "/collections/rag/points/delete?wait=true"));
    }

    [Fact]
    public async Task Chunk_sparse_vector_holds_saturated_bm25_term_frequencies()
    {
        _server.CollectionExists = true;
        await using var store = CreateStore(o => { o.Bm25K1 = 1.5; o.Bm25B = 0.5; o.Bm25AverageLength = 8; });
        await store.UpsertAsync(new DocumentInput("a.txt", "h", null, [], [new ChunkInput(0, "Alpha, beta; ALPHA gamma!", 4, 0, 25, ReadOnlyMemory<float>.Empty)]));

        var sparse = _server.To(HttpMethod.Put, Points).First().Json["points"]![0]!["vector"]!["bm25"]!;
        var weights = sparse["indices"]!.AsArray().Select(i => i!.GetValue<uint>())
            .Zip(sparse["values"]!.AsArray().Select(v => v!.GetValue<double>()))
            .ToDictionary(p => p.First, p => p.Second);
        // |d| = 4 terms; weight = tf·(k1+1) / (tf + k1·(1 − b + b·|d|/avgdl)).
        var norm = 1.5 * (1 - 0.5 + 0.5 * 4 / 8.0);
        Assert.Equal(3, weights.Count);
        Assert.Equal(2 * 2.5 / (2 + norm), weights[Bm25Index("alpha")], 5);
        Assert.Equal(1 * 2.5 / (1 + norm), weights[Bm25Index("beta")], 5);
        Assert.Equal(1 * 2.5 / (1 + norm), weights[Bm25Index("gamma")], 5);
    }

    [Fact]
    public async Task Bm25_terms_ignore_case_and_accents()
    {
        _server.CollectionExists = true;
        await using var store = CreateStore();
        await store.UpsertAsync(new DocumentInput("a.txt", "h", null, [], [new ChunkInput(0, "Crème BRÛLÉE", 2, 0, 12, ReadOnlyMemory<float>.Empty)]));
        await store.SearchAsync(new SearchQuery("creme brulee", default, 1, SearchMode.Bm25));

        uint[] expected = [.. new[] { Bm25Index("creme"), Bm25Index("brulee") }.Order()];
        var stored = _server.To(HttpMethod.Put, Points).First().Json["points"]![0]!["vector"]!["bm25"]!["indices"]!;
        var queried = Assert.Single(_server.To(HttpMethod.Post, "/collections/rag/points/query")).Json["query"]!["indices"]!;
        Assert.Equal(expected, stored.AsArray().Select(i => i!.GetValue<uint>()));
        Assert.Equal(expected, queried.AsArray().Select(i => i!.GetValue<uint>()));
    }

    [Fact]
    public async Task Point_ids_are_deterministic_and_versioned_by_content_hash()
    {
        _server.CollectionExists = true;
        await using (var store = CreateStore()) await store.UpsertAsync(Document(hash: "h1"));
        await using (var store = CreateStore()) await store.UpsertAsync(Document(hash: "h1"));
        await using (var store = CreateStore()) await store.UpsertAsync(Document(hash: "h2"));

        var ids = _server.To(HttpMethod.Put, Points).Select(r => r.Json["points"]!.AsArray().Select(p => p!["id"]!.GetValue<string>()).ToArray()).ToArray();
        // Per write: one request with the 2 chunks, then the document record.
        Assert.Equal(ids[0], ids[2]);
        Assert.Equal(ids[1], ids[3]);
        Assert.Equal(ids[1], ids[5]); // the document id follows the source only
        Assert.Empty(ids[0].Intersect(ids[4])); // a new version never overwrites the chunks of the old one
        Assert.All(ids.SelectMany(x => x), id => Assert.Equal(8, Guid.Parse(id).Version));
    }

    [Fact]
    public async Task Chunk_without_embedding_gets_only_the_sparse_vector()
    {
        _server.CollectionExists = true;
        await using var store = CreateStore();
        await store.UpsertAsync(new DocumentInput("a.txt", "h", null, [], [new ChunkInput(0, "text", 1, 0, 4, ReadOnlyMemory<float>.Empty)]));
        var vector = _server.To(HttpMethod.Put, Points).First().Json["points"]![0]!["vector"]!.AsObject();
        Assert.Equal(["bm25"], vector.Select(p => p.Key));
    }

    [Fact]
    public async Task Same_content_hash_is_unchanged_and_writes_nothing()
    {
        _server.CollectionExists = true;
        AnswerDocumentRecord("hash-1");
        await using var store = CreateStore();
        Assert.Equal(UpsertOutcome.Unchanged, await store.UpsertAsync(Document(hash: "hash-1")));
        Assert.Empty(_server.To(HttpMethod.Put, Points));
    }

    [Fact]
    public async Task Replacement_commits_the_new_version_then_deletes_the_old_chunks_by_filter()
    {
        _server.CollectionExists = true;
        AnswerDocumentRecord("hash-old", created: "2025-01-02T03:04:05+00:00");
        await using var store = CreateStore();
        Assert.Equal(UpsertOutcome.Replaced, await store.UpsertAsync(Document(hash: "hash-new")));

        var record = _server.To(HttpMethod.Put, Points).Last().Json["points"]![0]!;
        var documentId = record["id"]!.GetValue<string>();
        Assert.Equal(DateTimeOffset.Parse("2025-01-02T03:04:05+00:00"), DateTimeOffset.Parse(record["payload"]!["created_at"]!.GetValue<string>()));
        var delete = Assert.Single(_server.To(HttpMethod.Post, "/collections/rag/points/delete?wait=true"));
        AssertJson($$$"""
            {"filter":{
              "must":[{"key":"document_id","match":{"value":"{{{documentId}}}"}},{"key":"kind","match":{"value":"chunk"}}],
              "must_not":[{"key":"content_hash","match":{"value":"hash-new"}}]}}
            """, delete.Json);
        Assert.True(_server.Requests.ToList().IndexOf(delete) > _server.Requests.ToList().FindLastIndex(r => r.PathAndQuery == Points));
    }

    [Fact]
    public async Task Failed_upsert_removes_its_new_chunks_and_writes_no_document_record()
    {
        _server.CollectionExists = true;
        var upserts = 0;
        _server.Respond(HttpMethod.Put, "/collections/rag/points", _ => ++upserts == 2
            ? QdrantTestServer.Json(HttpStatusCode.BadRequest, """{"status":{"error":"Wrong input: vector dimension error"}}""")
            : QdrantTestServer.Ok("""{"operation_id":1,"status":"completed"}"""));
        await using var store = CreateStore(o => o.UpsertBatchSize = 1);

        var e = await Assert.ThrowsAsync<QdrantException>(() => store.UpsertAsync(Document(chunks: 3)));
        Assert.Contains("vector dimension error", e.Message);
        Assert.Contains("/collections/rag/points?wait=true", e.Message);
        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal(2, upserts); // 400 is final: neither retried nor followed by the document record
        var cleanup = Assert.Single(_server.To(HttpMethod.Post, "/collections/rag/points/delete?wait=true"));
        var must = cleanup.Json["filter"]!["must"]!.AsArray();
        Assert.Contains(must, c => c!["key"]!.GetValue<string>() == "content_hash" && c["match"]!["value"]!.GetValue<string>() == "hash-1");
    }

    [Fact]
    public async Task Hybrid_search_prefetches_dense_and_sparse_and_fuses_with_rrf()
    {
        _server.CollectionExists = true;
        await using var store = CreateStore(o => o.PrefetchMultiplier = 5);
        await store.SearchAsync(new SearchQuery("Alpha beta", new float[] { 0.5f, 0.25f, 1 }, 4, SearchMode.Hybrid));

        var query = Assert.Single(_server.To(HttpMethod.Post, "/collections/rag/points/query")).Json;
        var alpha = Bm25Index("alpha");
        var beta = Bm25Index("beta");
        var (first, second) = alpha < beta ? (alpha, beta) : (beta, alpha);
        const string chunksOnly = """{"must":[{"key":"kind","match":{"value":"chunk"}}]}""";
        AssertJson($$$"""
            {
              "query":{"fusion":"rrf"},
              "prefetch":[
                {"query":[0.5,0.25,1],"using":"dense","limit":20,"filter":{{{chunksOnly}}}},
                {"query":{"indices":[{{{first}}},{{{second}}}],"values":[1,1]},"using":"bm25","limit":20,"filter":{{{chunksOnly}}}}
              ],
              "limit":4,
              "with_payload":{"exclude":["source_prefixes"]}
            }
            """, query);
    }

    [Theory]
    [InlineData(SearchMode.Dense, "dense")]
    [InlineData(SearchMode.Bm25, "bm25")]
    public async Task Single_mode_search_queries_one_named_vector(SearchMode mode, string vectorName)
    {
        _server.CollectionExists = true;
        await using var store = CreateStore();
        await store.SearchAsync(new SearchQuery("gamma", new float[] { 1, 2, 3 }, 7, mode));
        var query = Assert.Single(_server.To(HttpMethod.Post, "/collections/rag/points/query")).Json;
        Assert.Equal(vectorName, query["using"]!.GetValue<string>());
        Assert.Equal(7, query["limit"]!.GetValue<int>());
        Assert.Null(query["prefetch"]);
        AssertJson(mode == SearchMode.Dense ? "[1,2,3]" : $$$"""{"indices":[{{{Bm25Index("gamma")}}}],"values":[1]}""", query["query"]);
    }

    [Fact]
    public async Task Filters_become_qdrant_must_conditions()
    {
        _server.CollectionExists = true;
        await using var store = CreateStore();
        var filter = new SearchFilter(
            DocumentIds: ["d1", "d2"], Tags: ["manual"], SourcePrefix: "docs/",
            UpdatedFrom: new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)),
            UpdatedTo: new DateTimeOffset(2025, 2, 1, 0, 0, 0, TimeSpan.Zero));
        await store.SearchAsync(new SearchQuery("", new float[] { 1, 0, 0 }, 3, SearchMode.Dense, filter));

        var query = Assert.Single(_server.To(HttpMethod.Post, "/collections/rag/points/query")).Json;
        AssertJson("""
            {"must":[
              {"key":"kind","match":{"value":"chunk"}},
              {"key":"document_id","match":{"any":["d1","d2"]}},
              {"key":"tags","match":{"any":["manual"]}},
              {"key":"source_prefixes","match":{"value":"docs/"}},
              {"key":"updated_at","range":{"gte":"2025-01-02T01:04:05.000000Z","lte":"2025-02-01T00:00:00.000000Z"}}
            ]}
            """, query["filter"]);
    }

    [Fact]
    public async Task Empty_id_list_matches_nothing_without_a_request()
    {
        await using var store = CreateStore();
        var hits = await store.SearchAsync(new SearchQuery("alpha", default, 3, SearchMode.Bm25, new SearchFilter(DocumentIds: [])));
        Assert.Empty(hits);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Search_hits_are_read_from_the_payload()
    {
        _server.CollectionExists = true;
        _server.Respond(HttpMethod.Post, "/collections/rag/points/query", _ => QdrantTestServer.Ok("""
            {"points":[{"id":"6f9619ff-8b86-d011-b42d-00cf4fc964ff","version":3,"score":0.75,
              "payload":{"kind":"chunk","document_id":"doc-1","source":"a.md","title":"A","tags":[],"content_hash":"h",
                         "updated_at":"2025-01-01T00:00:00Z","ordinal":2,"text":"hello","token_count":1,"start_offset":0,"end_offset":5}}]}
            """));
        await using var store = CreateStore();
        var hit = Assert.Single(await store.SearchAsync(new SearchQuery("hello", default, 1, SearchMode.Bm25)));
        Assert.Equal(new SearchHit("6f9619ff-8b86-d011-b42d-00cf4fc964ff", "doc-1", "a.md", "A", 2, "hello", 1, 0.75), hit);
    }

    [Fact]
    public async Task Dense_search_checks_the_vector()
    {
        _server.CollectionExists = true;
        await using var store = CreateStore();
        await Assert.ThrowsAsync<ArgumentException>(() => store.SearchAsync(new SearchQuery("x", default, 3, SearchMode.Dense)));
        var e = await Assert.ThrowsAsync<ArgumentException>(() => store.SearchAsync(new SearchQuery("x", new float[] { 1, 2 }, 3, SearchMode.Dense)));
        Assert.Contains("2 dimensions but Qdrant collection 'rag' stores 3", e.Message);
    }

    [Fact]
    public async Task Delete_removes_the_record_and_chunks_by_document_id_filter()
    {
        _server.CollectionExists = true;
        AnswerDocumentRecord("h");
        await using var store = CreateStore();
        var id = Guid.NewGuid().ToString();
        Assert.True(await store.DeleteDocumentAsync(id));
        var delete = Assert.Single(_server.To(HttpMethod.Post, "/collections/rag/points/delete?wait=true"));
        AssertJson($$$"""{"filter":{"must":[{"key":"document_id","match":{"value":"{{{id}}}"}}]}}""", delete.Json);
    }

    [Fact]
    public async Task Chunks_are_scrolled_page_by_page_for_the_committed_version()
    {
        _server.CollectionExists = true;
        AnswerDocumentRecord("h1");
        var id = Guid.NewGuid().ToString();
        _server.Respond(HttpMethod.Post, "/collections/rag/points/scroll", r => r.Json["offset"] is null
            ? QdrantTestServer.Ok($$$"""{"points":[{"id":"c1","payload":{"kind":"chunk","document_id":"{{{id}}}","ordinal":1,"text":"b","content_hash":"h1"}}],"next_page_offset":"c0"}""")
            : QdrantTestServer.Ok($$$"""{"points":[{"id":"c0","payload":{"kind":"chunk","document_id":"{{{id}}}","ordinal":0,"text":"a","content_hash":"h1"}}],"next_page_offset":null}"""));
        await using var store = CreateStore();

        var chunks = await store.GetChunksAsync(id);

        Assert.Equal(["a", "b"], chunks.Select(c => c.Text));
        var scrolls = _server.To(HttpMethod.Post, "/collections/rag/points/scroll").ToArray();
        Assert.Equal(2, scrolls.Length);
        Assert.Equal("c0", scrolls[1].Json["offset"]!.GetValue<string>());
        Assert.Contains(scrolls[0].Json["filter"]!["must"]!.AsArray(), c => c!["key"]!.GetValue<string>() == "content_hash");
    }

    [Fact]
    public async Task List_documents_reads_all_records_and_pages_them_in_source_order()
    {
        _server.CollectionExists = true;
        static string Record(string source) =>
            $$$"""{"id":"{{{Guid.NewGuid()}}}","payload":{"kind":"document","source":"{{{source}}}","content_hash":"h","updated_at":"2025-01-01T00:00:00Z","tags":[]}}""";
        _server.Respond(HttpMethod.Post, "/collections/rag/points/scroll", r => r.Json["offset"] is null
            ? QdrantTestServer.Ok($$$"""{"points":[{{{Record("c.md")}}},{{{Record("a.md")}}}],"next_page_offset":"x"}""")
            : QdrantTestServer.Ok($$$"""{"points":[{{{Record("b.md")}}},{{{Record("B.md")}}}],"next_page_offset":null}"""));
        await using var store = CreateStore();

        Assert.Equal(["a.md", "b.md"], (await store.ListDocumentsAsync(1, 2)).Select(d => d.Source));
        var scroll = _server.To(HttpMethod.Post, "/collections/rag/points/scroll").First().Json;
        AssertJson("""{"must":[{"key":"kind","match":{"value":"document"}}]}""", scroll["filter"]);
    }

    [Fact]
    public async Task Api_key_is_sent_on_every_request_when_configured()
    {
        await using var store = CreateStore(o => o.ApiKey = "secret-key");
        await store.UpsertAsync(Document());
        await store.SearchAsync(new SearchQuery("alpha", default, 3, SearchMode.Bm25));
        Assert.NotEmpty(_server.Requests);
        Assert.All(_server.Requests, r => Assert.Equal("secret-key", r.ApiKey));
    }

    [Fact]
    public async Task No_api_key_header_without_configuration()
    {
        await using var store = CreateStore();
        await store.UpsertAsync(Document());
        Assert.All(_server.Requests, r => Assert.Null(r.ApiKey));
    }

    [Fact]
    public async Task Transient_503_is_retried_until_it_succeeds()
    {
        _server.CollectionExists = true;
        var attempts = 0;
        _server.Respond(HttpMethod.Post, "/collections/rag/points/query", _ => ++attempts <= 2
            ? QdrantTestServer.Json(HttpStatusCode.ServiceUnavailable, """{"status":{"error":"overloaded"}}""")
            : QdrantTestServer.Ok("""{"points":[{"id":"p","score":1,"payload":{"kind":"chunk","document_id":"d","source":"s","ordinal":0,"text":"t"}}]}"""));
        await using var store = CreateStore();

        var hits = await store.SearchAsync(new SearchQuery("alpha", default, 1, SearchMode.Bm25));

        Assert.Equal(3, attempts);
        Assert.Equal("p", Assert.Single(hits).ChunkId);
    }

    [Fact]
    public async Task Connection_reset_surfacing_as_a_bare_socket_error_is_retried_and_then_named()
    {
        _server.CollectionExists = true;
        _server.Respond(HttpMethod.Post, "/collections/rag/points/query", _ => throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.NotConnected));
        await using var store = CreateStore(o => o.MaxRetryAttempts = 2);

        var e = await Assert.ThrowsAsync<QdrantException>(() => store.SearchAsync(new SearchQuery("alpha", default, 1, SearchMode.Bm25)));

        Assert.Contains("cannot be reached", e.Message);
        Assert.Equal(3, _server.To(HttpMethod.Post, "/collections/rag/points/query").Count());
    }

    [Fact]
    public async Task Retries_give_up_with_the_last_status()
    {
        _server.CollectionExists = true;
        _server.Respond(HttpMethod.Post, "/collections/rag/points/query", _ => QdrantTestServer.Json(HttpStatusCode.TooManyRequests, """{"status":{"error":"slow down"}}"""));
        await using var store = CreateStore(o => o.MaxRetryAttempts = 2);
        var e = await Assert.ThrowsAsync<QdrantException>(() => store.SearchAsync(new SearchQuery("alpha", default, 1, SearchMode.Bm25)));
        Assert.Equal(HttpStatusCode.TooManyRequests, e.StatusCode);
        Assert.Equal(3, _server.To(HttpMethod.Post, "/collections/rag/points/query").Count());
    }

    [Fact]
    public async Task Circuit_opens_after_repeated_failures_and_then_fails_fast()
    {
        _server.CollectionExists = true;
        _server.Respond(HttpMethod.Post, "/collections/rag/points/query", _ => throw new HttpRequestException("connection refused"));
        await using var store = CreateStore(o =>
        {
            o.MaxRetryAttempts = 1;
            o.CircuitMinimumThroughput = 2;
            o.CircuitFailureRatio = 0.5;
            o.CircuitBreakDuration = TimeSpan.FromMinutes(5);
        });
        var query = new SearchQuery("alpha", default, 1, SearchMode.Bm25);

        // The successful "exists" check and the first refused query make 2 samples at 50 % failures: the circuit opens.
        await Assert.ThrowsAsync<QdrantException>(() => store.SearchAsync(query));
        var sent = _server.To(HttpMethod.Post, "/collections/rag/points/query").Count();
        Assert.Equal(1, sent);

        var second = await Assert.ThrowsAsync<QdrantException>(() => store.SearchAsync(query));
        Assert.Contains("circuit open", second.Message);
        Assert.Equal(sent, _server.To(HttpMethod.Post, "/collections/rag/points/query").Count());
    }

    [Fact]
    public async Task Ping_reports_readiness_without_throwing()
    {
        await using var store = CreateStore();
        Assert.True(await store.PingAsync());
        _server.Respond(HttpMethod.Get, "/readyz", _ => throw new HttpRequestException("connection refused"));
        Assert.False(await store.PingAsync());
    }

    [Theory]
    [InlineData("CircuitBreakDuration", "Qdrant:CircuitBreakDuration is 00:00:00.2000000; must be between 0.5 s and 24 h")]
    [InlineData("CircuitSamplingDuration", "Qdrant:CircuitSamplingDuration is 00:00:00.2000000; must be between 0.5 s and 24 h")]
    [InlineData("AttemptTimeout", "Qdrant:AttemptTimeout is 00:00:00.0050000; must be between 10 ms and 24 h")]
    [InlineData("MaxRetryAttempts", "Qdrant:MaxRetryAttempts is 0; must be at least 1")]
    [InlineData("CircuitFailureRatio", "Qdrant:CircuitFailureRatio is 0; must be above 0 and at most 1")]
    public void Resilience_settings_outside_pollys_ranges_are_named_at_construction(string key, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => CreateStore(o =>
        {
            switch (key)
            {
                case "CircuitBreakDuration": o.CircuitBreakDuration = TimeSpan.FromMilliseconds(200); break;
                case "CircuitSamplingDuration": o.CircuitSamplingDuration = TimeSpan.FromMilliseconds(200); break;
                case "AttemptTimeout": o.AttemptTimeout = TimeSpan.FromMilliseconds(5); break;
                case "MaxRetryAttempts": o.MaxRetryAttempts = 0; break;
                case "CircuitFailureRatio": o.CircuitFailureRatio = 0; break;
            }
        }));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task Resilience_settings_at_the_edges_of_their_ranges_build_a_working_pipeline()
    {
        await using var store = CreateStore(o =>
        {
            (o.CircuitBreakDuration, o.CircuitSamplingDuration) = (TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500));
            (o.AttemptTimeout, o.MaxRetryAttempts, o.CircuitFailureRatio) = (TimeSpan.FromMilliseconds(10), 1, 1);
        });
        _server.CollectionExists = true;
        Assert.Null(await store.FindBySourceAsync("docs/none.md"));
    }

    [Theory]
    [InlineData(-1, "Cosine", "Qdrant:VectorSize is -1")]
    [InlineData(3, "Hamming", "Qdrant:Distance 'Hamming'")]
    public void Invalid_options_are_named(int vectorSize, string distance, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => CreateStore(o => { o.VectorSize = vectorSize; o.Distance = distance; }));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task Mis_sized_chunk_embedding_is_rejected_before_any_write()
    {
        _server.CollectionExists = true;
        await using var store = CreateStore(o => o.VectorSize = 0);
        var document = new DocumentInput("a.md", "h", null, [], [new ChunkInput(0, "x", 1, 0, 1, new float[] { 1, 2, 3, 4 })]);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertAsync(document));
        Assert.Contains("Document 'a.md' has 4-dimensional embeddings but Qdrant collection 'rag' stores 3", e.Message);
        Assert.All(_server.Requests, r => Assert.Equal(HttpMethod.Get, r.Method));
    }

    [Fact]
    public async Task Invalid_chunks_are_rejected_naming_the_source_before_any_request()
    {
        await using var store = CreateStore();
        var blank = await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertAsync(Document(source: " ")));
        Assert.Contains("source", blank.Message);
        var negative = new DocumentInput("neg.md", "h", null, [], [new ChunkInput(-1, "x", 1, 0, 1, default)]);
        Assert.Contains("neg.md", (await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertAsync(negative))).Message);
        var mixed = new DocumentInput("mix.md", "h", null, [], [new ChunkInput(0, "x", 1, 0, 1, new float[] { 1, 2, 3 }), new ChunkInput(1, "y", 1, 0, 1, new float[] { 1, 2 })]);
        Assert.Contains("mix.md", (await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertAsync(mixed))).Message);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Without_configured_size_the_first_embeddings_size_the_dense_vector()
    {
        await using var store = CreateStore(o => o.VectorSize = 0);
        await store.UpsertAsync(new DocumentInput("a.md", "h", null, [], [new ChunkInput(0, "x", 1, 0, 1, new float[] { 1, 2, 3, 4, 5 })]));
        var create = Assert.Single(_server.To(HttpMethod.Put, "/collections/rag"));
        Assert.Equal(5, create.Json["vectors"]!["dense"]!["size"]!.GetValue<int>());
    }

    [Fact]
    public async Task Documents_without_embeddings_create_a_sparse_only_collection_that_refuses_vectors_later()
    {
        await using var store = CreateStore(o => o.VectorSize = 0);
        await store.UpsertAsync(new DocumentInput("a.md", "h", null, [], [new ChunkInput(0, "text", 1, 0, 4, default)]));
        var create = Assert.Single(_server.To(HttpMethod.Put, "/collections/rag"));
        AssertJson("""{"sparse_vectors":{"bm25":{"modifier":"idf"}}}""", create.Json);

        // Dense and hybrid queries fall back to what the collection has: BM25, or nothing.
        Assert.Empty(await store.SearchAsync(new SearchQuery("", new float[] { 1, 0 }, 3, SearchMode.Dense)));
        await store.SearchAsync(new SearchQuery("text", new float[] { 1, 0 }, 3, SearchMode.Hybrid));
        Assert.Equal("bm25", Assert.Single(_server.To(HttpMethod.Post, "/collections/rag/points/query")).Json["using"]!.GetValue<string>());

        var e = await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertAsync(Document()));
        Assert.Contains("created without dense vectors", e.Message);
    }

    [Fact]
    public async Task Existing_collection_of_another_size_is_refused()
    {
        _server.CollectionExists = true;
        _server.DenseSize = 768;
        await using var store = CreateStore(o => o.VectorSize = 384);
        var e = await Assert.ThrowsAsync<QdrantException>(() => store.UpsertAsync(Document()));
        Assert.Contains("stores 768 dense dimensions but Qdrant:VectorSize is 384", e.Message);
    }

    [Fact]
    public async Task Reads_of_a_missing_collection_are_empty_and_create_nothing()
    {
        await using var store = CreateStore();
        Assert.Null(await store.FindBySourceAsync("a.md"));
        Assert.Empty(await store.ListDocumentsAsync(0, 10));
        Assert.Empty(await store.SearchAsync(new SearchQuery("x", new float[] { 1, 0, 0 }, 3, SearchMode.Hybrid)));
        Assert.False(await store.DeleteDocumentAsync(Guid.NewGuid().ToString()));
        Assert.All(_server.Requests, r => Assert.Equal(HttpMethod.Get, r.Method));
    }

    /// <summary>FNV-1a 32-bit over UTF-8, computed independently of the store.</summary>
    private static uint Bm25Index(string term)
    {
        var hash = 2166136261u;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(term)) hash = unchecked((hash ^ b) * 16777619u);
        return hash;
    }
}
