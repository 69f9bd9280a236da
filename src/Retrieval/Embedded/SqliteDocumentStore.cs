using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Search;

namespace Rag.Retrieval.Embedded;

/// <summary>
/// The embedded store: one SQLite file (WAL) holding documents, chunks, an FTS5 index for BM25 and the
/// chunk embeddings; dense search runs over an in-memory <see cref="DenseIndex"/> loaded on first use.
/// </summary>
public sealed partial class SqliteDocumentStore : IDocumentStore, IStoreIntegrityCheck
{
    internal static readonly ActivitySource Activity = new("Rag.Retrieval.Embedded");

    private readonly EmbeddedStoreOptions _options;
    private readonly ILogger<SqliteDocumentStore> _logger;
    private readonly string _connectionString;
    // Serialises writes with the dense-index load, so the index never misses a committed upsert.
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private DenseIndex? _dense;

    /// <summary>Test hook: runs after each chunk row is inserted, inside the upsert transaction.</summary>
    internal Action<int>? AfterChunkInserted { get; set; }

    public SqliteDocumentStore(IOptions<EmbeddedStoreOptions> options, ILogger<SqliteDocumentStore>? logger = null)
    {
        _options = options.Value;
        _options.Validate();
        _logger = logger ?? NullLogger<SqliteDocumentStore>.Instance;
        _connectionString = SqliteFile.ConnectionString(_options.DatabasePath);
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        SqliteSchema.Create(connection);
        _logger.LogInformation("Embedded store opened at {Path}", _options.DatabasePath);
    }

    /// <summary>Opens (or creates) the store in a folder with default options.</summary>
    public static SqliteDocumentStore Open(string dataDirectory, ILogger<SqliteDocumentStore>? logger = null) =>
        new(Options.Create(new EmbeddedStoreOptions { DataDirectory = dataDirectory }), logger);

    public async Task<UpsertOutcome> UpsertAsync(DocumentInput document, CancellationToken cancellationToken = default)
    {
        var vectors = DocumentValidator.Validate(document);
        using var activity = Activity.StartActivity("store.upsert");
        activity?.SetTag("rag.source", document.Source);

        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);

            var existing = await FindIdAndHashAsync(connection, transaction, document.Source, cancellationToken);
            if (existing is { } e && e.Hash == document.ContentHash)
                return UpsertOutcome.Unchanged;

            var documentId = existing?.Id ?? Guid.NewGuid().ToString("N");
            await CheckStoredDimensionAsync(connection, transaction, document, documentId, vectors, cancellationToken);
            var now = SearchFilterSql.FormatTime(DateTimeOffset.UtcNow);
            if (existing is null) await InsertDocumentRowAsync(connection, transaction, documentId, document, now, cancellationToken);
            else await ReplaceDocumentRowAsync(connection, transaction, documentId, document, now, cancellationToken);
            await InsertTagsAsync(connection, transaction, documentId, document.Tags, cancellationToken);
            var indexRows = await InsertChunksAsync(connection, transaction, documentId, document, vectors, cancellationToken);

            await transaction.CommitAsync(cancellationToken);
            _dense?.SetDocument(documentId, indexRows);

            var outcome = existing is null ? UpsertOutcome.Added : UpsertOutcome.Replaced;
            _logger.LogDebug("Upsert {Source}: {Outcome}, {Chunks} chunks", document.Source, outcome, document.Chunks.Count);
            return outcome;
        }
        finally { _writeGate.Release(); }
    }

    public async Task<DocumentInfo?> FindBySourceAsync(string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return (await QueryDocumentsAsync("WHERE d.source = @key", source, 0, 1, cancellationToken)).FirstOrDefault();
    }

    public async Task<DocumentInfo?> GetDocumentAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        return (await QueryDocumentsAsync("WHERE d.id = @key", documentId, 0, 1, cancellationToken)).FirstOrDefault();
    }

    public Task<IReadOnlyList<DocumentInfo>> ListDocumentsAsync(int skip, int take, CancellationToken cancellationToken = default)
    {
        if (skip < 0) throw new ArgumentOutOfRangeException(nameof(skip), skip, "skip must be >= 0.");
        if (take < 0) throw new ArgumentOutOfRangeException(nameof(take), take, "take must be >= 0.");
        return QueryDocumentsAsync("", null, skip, take, cancellationToken);
    }

    public async Task<IReadOnlyList<ChunkRecord>> GetChunksAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, document_id, ordinal, text, token_count, start_offset, end_offset
            FROM chunks WHERE document_id = @id ORDER BY ordinal
            """;
        command.Parameters.AddWithValue("@id", documentId);
        var chunks = new List<ChunkRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            chunks.Add(new ChunkRecord(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3),
                reader.GetInt32(4), reader.GetInt32(5), reader.GetInt32(6)));
        return chunks;
    }

    public async Task<bool> UpdateTagsAsync(string documentId, IReadOnlyList<string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        ArgumentNullException.ThrowIfNull(tags);
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                DELETE FROM document_tags WHERE document_id = @id;
                UPDATE documents SET tags = @tags, updated_at = @now WHERE id = @id;
                """;
            command.Parameters.AddWithValue("@id", documentId);
            command.Parameters.AddWithValue("@tags", JsonSerializer.Serialize(DistinctTags(tags)));
            command.Parameters.AddWithValue("@now", SearchFilterSql.FormatTime(DateTimeOffset.UtcNow));
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
                return false;
            await InsertTagsAsync(connection, transaction, documentId, tags, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }
        finally { _writeGate.Release(); }
    }

    public async Task<bool> DeleteDocumentAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await DeleteFtsRowsAsync(connection, transaction, documentId, cancellationToken);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM documents WHERE id = @id"; // chunks and tags cascade
            command.Parameters.AddWithValue("@id", documentId);
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken) > 0;
            await transaction.CommitAsync(cancellationToken);
            if (deleted) _dense?.RemoveDocument(documentId);
            return deleted;
        }
        finally { _writeGate.Release(); }
    }

    /// <summary>SQLite's own consistency check of the file ("ok" when sound), for operators after a crash.</summary>
    public async Task<string> CheckIntegrityAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) lines.Add(reader.GetString(0));
        return string.Join("; ", lines);
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM documents";
            await command.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (SqliteException ex)
        {
            _logger.LogWarning(ex, "Embedded store ping failed");
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        // Pooled connections keep the file open; release them so the folder can be moved or deleted.
        using (var connection = new SqliteConnection(_connectionString)) SqliteConnection.ClearPool(connection);
        _dense?.Dispose();
        _writeGate.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            SqliteSchema.ApplyPragmas(connection);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<(string Id, string Hash)?> FindIdAndHashAsync(
        SqliteConnection connection, SqliteTransaction transaction, string source, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT id, content_hash FROM documents WHERE source = @source";
        command.Parameters.AddWithValue("@source", source);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.GetString(1)) : null;
    }

    private static async Task CheckStoredDimensionAsync(SqliteConnection connection, SqliteTransaction transaction,
        DocumentInput document, string documentId, float[]?[] vectors, CancellationToken cancellationToken)
    {
        var dimension = vectors.FirstOrDefault(v => v is not null)?.Length;
        if (dimension is null) return;
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT length(embedding) / 4 FROM chunks WHERE embedding IS NOT NULL AND document_id <> @id LIMIT 1";
        command.Parameters.AddWithValue("@id", documentId);
        if (await command.ExecuteScalarAsync(cancellationToken) is long stored && stored != dimension)
            throw new ArgumentException(
                $"Document '{document.Source}' has embeddings of dimension {dimension} but the store holds dimension {stored}.",
                nameof(document));
    }

    private static async Task InsertDocumentRowAsync(SqliteConnection connection, SqliteTransaction transaction,
        string documentId, DocumentInput document, string now, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO documents(id, source, content_hash, title, tags, created_at, updated_at)
            VALUES (@id, @source, @hash, @title, @tags, @now, @now)
            """;
        AddDocumentParameters(command, documentId, document, now);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task ReplaceDocumentRowAsync(SqliteConnection connection, SqliteTransaction transaction,
        string documentId, DocumentInput document, string now, CancellationToken cancellationToken)
    {
        await DeleteFtsRowsAsync(connection, transaction, documentId, cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            DELETE FROM chunks WHERE document_id = @id;
            DELETE FROM document_tags WHERE document_id = @id;
            UPDATE documents SET content_hash = @hash, title = @title, tags = @tags, updated_at = @now WHERE id = @id;
            """;
        AddDocumentParameters(command, documentId, document, now);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddDocumentParameters(SqliteCommand command, string documentId, DocumentInput document, string now)
    {
        command.Parameters.AddWithValue("@id", documentId);
        command.Parameters.AddWithValue("@source", document.Source);
        command.Parameters.AddWithValue("@hash", document.ContentHash);
        command.Parameters.AddWithValue("@title", (object?)document.Title ?? DBNull.Value);
        command.Parameters.AddWithValue("@tags", JsonSerializer.Serialize(DistinctTags(document.Tags)));
        command.Parameters.AddWithValue("@now", now);
    }

    private static List<string> DistinctTags(IReadOnlyList<string>? tags) => (tags ?? []).Distinct(StringComparer.Ordinal).ToList();

    // External-content FTS5 rows must be deleted with the exact text they were indexed with.
    private static async Task DeleteFtsRowsAsync(SqliteConnection connection, SqliteTransaction transaction,
        string documentId, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO chunks_fts(chunks_fts, rowid, text)
            SELECT 'delete', seq, text FROM chunks WHERE document_id = @id
            """;
        command.Parameters.AddWithValue("@id", documentId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task InsertTagsAsync(SqliteConnection connection, SqliteTransaction transaction,
        string documentId, IReadOnlyList<string>? tags, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO document_tags(document_id, tag) VALUES (@id, @tag)";
        command.Parameters.AddWithValue("@id", documentId);
        var tag = command.Parameters.Add("@tag", SqliteType.Text);
        foreach (var value in DistinctTags(tags))
        {
            tag.Value = value;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private async Task<List<DenseRow>> InsertChunksAsync(SqliteConnection connection,
        SqliteTransaction transaction, string documentId, DocumentInput document, float[]?[] vectors,
        CancellationToken cancellationToken)
    {
        await using var insertChunk = connection.CreateCommand();
        insertChunk.Transaction = transaction;
        insertChunk.CommandText = """
            INSERT INTO chunks(id, document_id, ordinal, text, token_count, start_offset, end_offset, text_hash, embedding)
            VALUES (@id, @doc, @ordinal, @text, @tokens, @start, @end, @hash, @embedding) RETURNING seq
            """;
        insertChunk.Parameters.AddWithValue("@doc", documentId);
        var id = insertChunk.Parameters.Add("@id", SqliteType.Text);
        var ordinal = insertChunk.Parameters.Add("@ordinal", SqliteType.Integer);
        var text = insertChunk.Parameters.Add("@text", SqliteType.Text);
        var tokens = insertChunk.Parameters.Add("@tokens", SqliteType.Integer);
        var start = insertChunk.Parameters.Add("@start", SqliteType.Integer);
        var end = insertChunk.Parameters.Add("@end", SqliteType.Integer);
        var hash = insertChunk.Parameters.Add("@hash", SqliteType.Text);
        var embedding = insertChunk.Parameters.Add("@embedding", SqliteType.Blob);

        await using var insertFts = connection.CreateCommand();
        insertFts.Transaction = transaction;
        insertFts.CommandText = "INSERT INTO chunks_fts(rowid, text) VALUES (@seq, @text)";
        var ftsRowId = insertFts.Parameters.Add("@seq", SqliteType.Integer);
        var ftsText = insertFts.Parameters.Add("@text", SqliteType.Text);

        var indexRows = new List<DenseRow>();
        for (var i = 0; i < document.Chunks.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = document.Chunks[i];
            var chunkId = Guid.NewGuid().ToString("N");
            id.Value = chunkId;
            ordinal.Value = chunk.Ordinal;
            text.Value = chunk.Text;
            tokens.Value = chunk.TokenCount;
            start.Value = chunk.StartOffset;
            end.Value = chunk.EndOffset;
            hash.Value = ChunkTextHash.Compute(chunk.Text);
            embedding.Value = vectors[i] is { } v ? VectorMath.ToBlob(v) : DBNull.Value;
            var seq = (long)(await insertChunk.ExecuteScalarAsync(cancellationToken))!;

            ftsRowId.Value = seq;
            ftsText.Value = chunk.Text;
            await insertFts.ExecuteNonQueryAsync(cancellationToken);

            if (vectors[i] is { } vector) indexRows.Add(new DenseRow(chunkId, seq, vector));
            AfterChunkInserted?.Invoke(i);
        }
        return indexRows;
    }

    private async Task<IReadOnlyList<DocumentInfo>> QueryDocumentsAsync(
        string where, string? key, int skip, int take, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT d.id, d.source, d.content_hash, d.title, d.tags,
                   (SELECT count(*) FROM chunks c WHERE c.document_id = d.id), d.created_at, d.updated_at
            FROM documents d {where}
            ORDER BY d.source LIMIT @take OFFSET @skip
            """;
        if (key is not null) command.Parameters.AddWithValue("@key", key);
        command.Parameters.AddWithValue("@take", take);
        command.Parameters.AddWithValue("@skip", skip);
        var documents = new List<DocumentInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            documents.Add(new DocumentInfo(
                reader.GetString(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                JsonSerializer.Deserialize<List<string>>(reader.GetString(4)) ?? [],
                reader.GetInt32(5),
                SearchFilterSql.ParseTime(reader.GetString(6)),
                SearchFilterSql.ParseTime(reader.GetString(7))));
        }
        return documents;
    }
}
