using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Search;

namespace Rag.Retrieval.Embedded;

public sealed partial class SqliteDocumentStore
{
    private const string HitColumns = "c.id, c.document_id, d.source, d.title, c.ordinal, c.text, c.token_count";

    /// <summary>A ranked chunk before its row is read: its rowid and the ranker's score.</summary>
    private readonly record struct Candidate(long Seq, double Score);

    public async Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.K <= 0) throw new ArgumentOutOfRangeException(nameof(query), query.K, "SearchQuery.K must be > 0.");
        using var activity = Activity.StartActivity("store.search");
        activity?.SetTag("rag.search.mode", query.Mode.ToString());
        activity?.SetTag("rag.search.k", query.K);

        // Each ranker over-fetches so that collapsing near-duplicates still leaves K hits.
        var candidates = (int)Math.Min((long)query.K * _options.CandidateMultiplier, int.MaxValue);
        IReadOnlyList<Candidate> ranked = query.Mode switch
        {
            SearchMode.Bm25 => await Bm25Async(query.Text, candidates, query.Filter, cancellationToken),
            SearchMode.Dense => await DenseAsync(RequireVector(query), candidates, query.Filter, cancellationToken),
            SearchMode.Hybrid => await HybridAsync(query, candidates, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(query), query.Mode, "Unknown SearchQuery.Mode."),
        };
        var hits = await ReadDistinctHitsAsync(ranked, query.K, cancellationToken);
        _logger.LogDebug("Search {Mode} k={K}: {Hits} hits", query.Mode, query.K, hits.Count);
        return hits;
    }

    private async Task<IReadOnlyList<Candidate>> HybridAsync(SearchQuery query, int candidates, CancellationToken cancellationToken)
    {
        var lists = new List<IReadOnlyList<Candidate>>
        {
            await Bm25Async(query.Text, candidates, query.Filter, cancellationToken),
        };
        if (!query.Vector.IsEmpty)
            lists.Add(await DenseAsync(RequireVector(query), candidates, query.Filter, cancellationToken));
        return ReciprocalRankFusion.FuseKeys(lists.Select(l => l.Select(c => c.Seq).ToList()), candidates, _options.RrfK)
            .Select(f => new Candidate(f.Key, f.Score))
            .ToList();
    }

    /// <summary>
    /// Reads hit rows in rank order until k distinct passages are kept: one page of k rows unless near-duplicates
    /// were dropped, rather than every over-fetched candidate (random row reads dominate a large file).
    /// </summary>
    private async Task<IReadOnlyList<SearchHit>> ReadDistinctHitsAsync(IReadOnlyList<Candidate> ranked, int k, CancellationToken cancellationToken)
    {
        const int MinimumPage = 16;
        var read = new List<SearchHit>();
        IReadOnlyList<SearchHit> kept = [];
        for (var next = 0; kept.Count < k && next < ranked.Count;)
        {
            var page = ranked.Skip(next).Take(Math.Max(k - kept.Count, MinimumPage)).ToList();
            next += page.Count;
            var rows = await HitsBySeqAsync(page.Select(c => c.Seq).ToList(), cancellationToken);
            // A chunk deleted between ranking and reading is simply skipped.
            read.AddRange(page.Where(c => rows.ContainsKey(c.Seq)).Select(c => rows[c.Seq] with { Score = c.Score }));
            kept = NearDuplicates.Collapse(read, _dense is { } dense ? dense.VectorOf : null, limit: k);
        }
        return kept;
    }

    private static float[] RequireVector(SearchQuery query)
    {
        if (query.Vector.IsEmpty)
            throw new ArgumentException($"{query.Mode} search needs SearchQuery.Vector (it was empty).", nameof(query));
        return VectorMath.Normalised(query.Vector.Span)
            ?? throw new ArgumentException("SearchQuery.Vector is zero or not finite; it has no direction.", nameof(query));
    }

    private async Task<IReadOnlyList<Candidate>> Bm25Async(string? text, int k, SearchFilter? filter, CancellationToken cancellationToken)
    {
        var match = Fts5Query.FromUserText(text);
        if (match is null) return [];
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // Rank inside FTS5 alone and read hit rows afterwards for the winners only: a common term can match most
        // chunks, and joining every match before the LIMIT costs several times the ranking itself.
        var (join, where) = SearchFilterSql.IsEmpty(filter) ? ("", "") : (
            " JOIN chunks c ON c.seq = f.rowid",
            $" AND c.document_id IN (SELECT d.id FROM documents d WHERE 1 = 1{SearchFilterSql.Conditions(filter, command)})");
        // bm25() is lower-is-better; negate so every mode reports higher-is-better.
        command.CommandText = $"""
            SELECT f.rowid, -bm25(chunks_fts) AS score
            FROM chunks_fts f{join}
            WHERE chunks_fts MATCH @match{where}
            ORDER BY score DESC, f.rowid
            LIMIT @k
            """;
        command.Parameters.AddWithValue("@match", match);
        command.Parameters.AddWithValue("@k", k);
        var ranked = new List<Candidate>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            ranked.Add(new Candidate(reader.GetInt64(0), reader.GetDouble(1)));
        return ranked;
    }

    private async Task<IReadOnlyList<Candidate>> DenseAsync(float[] vector, int k, SearchFilter? filter, CancellationToken cancellationToken)
    {
        var index = await DenseIndexAsync(cancellationToken);
        if (index.Dimension == 0) return [];
        if (vector.Length != index.Dimension)
            throw new ArgumentException(
                $"SearchQuery.Vector has dimension {vector.Length} but the store holds vectors of dimension {index.Dimension}.");
        var allowed = SearchFilterSql.IsEmpty(filter) ? null : await AllowedDocumentIdsAsync(filter, cancellationToken);
        return index.TopK(vector, k, allowed).Select(m => new Candidate(m.Key, m.Score)).ToList();
    }

    private async Task<IReadOnlySet<string>> AllowedDocumentIdsAsync(SearchFilter? filter, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT d.id FROM documents d WHERE 1 = 1" + SearchFilterSql.Conditions(filter, command);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetString(0));
        return ids;
    }

    // By the integer primary key: one B-tree lookup per hit instead of two through the chunk-id index.
    private async Task<Dictionary<long, SearchHit>> HitsBySeqAsync(IReadOnlyList<long> seqs, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {HitColumns}, c.seq FROM chunks c JOIN documents d ON d.id = c.document_id
            WHERE c.seq IN ({SearchFilterSql.InList(command, "seq", seqs)})
            """;
        var hits = new Dictionary<long, SearchHit>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            hits[reader.GetInt64(7)] = ReadHit(reader);
        return hits;
    }

    private static SearchHit ReadHit(SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.GetInt32(4), reader.GetString(5), reader.GetInt32(6), Score: 0);

    /// <summary>Loads every stored embedding into memory on the first dense query.</summary>
    private async Task<DenseIndex> DenseIndexAsync(CancellationToken cancellationToken)
    {
        if (_dense is { } loaded) return loaded;
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            if (_dense is { } raced) return raced;
            // The CPU scan needs no libtorch: TorchSharp (and its native library) is touched only for a GPU device.
            var index = new DenseIndex(string.Equals(_options.Device?.Trim(), "cpu", StringComparison.OrdinalIgnoreCase)
                ? null
                : Rag.Generator.Runtime.TorchDevices.Parse(_options.Device, $"{EmbeddedStoreOptions.SectionName}:Device"));
            await using var connection = await OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*), max(length(embedding)) / 4 FROM chunks WHERE embedding IS NOT NULL";
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(1))
                    index.Reserve(reader.GetInt32(0), reader.GetInt32(1));
            }
            command.CommandText = "SELECT document_id, id, seq, embedding FROM chunks WHERE embedding IS NOT NULL ORDER BY document_id, seq";
            var rows = new List<DenseRow>();
            string? current = null;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var documentId = reader.GetString(0);
                    if (documentId != current && current is not null)
                    {
                        index.SetDocument(current, rows);
                        rows = [];
                    }
                    current = documentId;
                    rows.Add(new DenseRow(reader.GetString(1), reader.GetInt64(2), VectorMath.FromBlob((byte[])reader.GetValue(3))));
                }
            }
            if (current is not null) index.SetDocument(current, rows);
            _logger.LogInformation("Dense index loaded: {Rows} vectors of dimension {Dimension}", index.Count, index.Dimension);
            _dense = index;
            return index;
        }
        finally { _writeGate.Release(); }
    }
}
