using Microsoft.Data.Sqlite;

namespace Rag.Retrieval.Embedded;

/// <summary>How every SQLite file of Rag is opened: created with its folder when missing, pooled, 30 s busy wait.</summary>
public static class SqliteFile
{
    public static string ConnectionString(string path)
    {
        var fullPath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        return new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }
}
