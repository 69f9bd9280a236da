using Microsoft.Data.Sqlite;

namespace Rag.Retrieval.Embedded;

/// <summary>DDL of the embedded store; every statement is idempotent so opening an existing file is safe.</summary>
internal static class SqliteSchema
{
    /// <summary>Version of the layout below; a file of another version is refused rather than misread (no migrations yet).</summary>
    public const int CurrentVersion = 1;

    // chunks.seq is the stable INTEGER rowid that the external-content FTS5 table points at
    // (an implicit rowid may change on VACUUM); chunks.id is the public GUID key.
    private const string Ddl = """
        CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);

        CREATE TABLE IF NOT EXISTS documents(
            id           TEXT PRIMARY KEY,
            source       TEXT NOT NULL UNIQUE,
            content_hash TEXT NOT NULL,
            title        TEXT NULL,
            tags         TEXT NOT NULL DEFAULT '[]',
            created_at   TEXT NOT NULL,
            updated_at   TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS ix_documents_updated_at ON documents(updated_at);

        CREATE TABLE IF NOT EXISTS document_tags(
            document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            tag         TEXT NOT NULL,
            PRIMARY KEY(document_id, tag));
        CREATE INDEX IF NOT EXISTS ix_document_tags_tag ON document_tags(tag);

        CREATE TABLE IF NOT EXISTS chunks(
            seq          INTEGER PRIMARY KEY,
            id           TEXT NOT NULL UNIQUE,
            document_id  TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            ordinal      INTEGER NOT NULL,
            text         TEXT NOT NULL,
            token_count  INTEGER NOT NULL,
            start_offset INTEGER NOT NULL,
            end_offset   INTEGER NOT NULL,
            text_hash    TEXT NOT NULL,
            embedding    BLOB NULL,
            UNIQUE(document_id, ordinal));

        CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
            text, content='chunks', content_rowid='seq', tokenize='unicode61 remove_diacritics 2');
        """;

    /// <summary>Per-connection settings; journal_mode=WAL persists in the file, the others do not.</summary>
    public static void ApplyPragmas(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";
        command.ExecuteNonQuery();
    }

    /// <summary>Creates missing tables and records the version; checks the version of an existing file.</summary>
    public static void Create(SqliteConnection connection)
    {
        using (var pragmas = connection.CreateCommand())
        {
            // journal_mode cannot change inside a transaction.
            pragmas.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";
            pragmas.ExecuteNonQuery();
        }
        // One transaction, so two processes opening a new file at once record the version exactly once.
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = Ddl + "SELECT max(version) FROM schema_version;";
        var stored = command.ExecuteScalar();
        if (stored is long version)
        {
            if (version != CurrentVersion)
                throw new InvalidOperationException(
                    $"Database '{connection.DataSource}' has schema version {version}; this build reads version {CurrentVersion} only.");
        }
        else
        {
            command.CommandText = $"INSERT INTO schema_version(version) VALUES ({CurrentVersion})";
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }
}
