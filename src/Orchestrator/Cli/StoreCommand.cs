using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Rag.Orchestrator.Composition;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Cli;

/// <summary>`rag store check`: is the store sound after a crash, and what does it hold (comparable across runs)?</summary>
public static class StoreCommand
{
    private const int Page = 500;

    public static Command Create()
    {
        var command = new Command("store", "Inspect the document store.");
        var check = new Command("check",
            "Print document and chunk counts, a digest of (source, content hash, chunk count) over all documents, and, where the store can check " +
            "its storage (the embedded store: SQLite's integrity check), that check; exit 1 when it fails.");
        check.SetAction((parse, ct) => CliErrors.RunAsync(async () =>
        {
            await using var services = RagServices.Build(parse.GetValue(RagCli.ConfigOption));
            var store = services.GetRequiredService<IDocumentStore>();
            var documents = new List<DocumentInfo>();
            for (int skip = 0; ; skip += Page)
            {
                var page = await store.ListDocumentsAsync(skip, Page, ct);
                documents.AddRange(page);
                if (page.Count < Page) break;
            }
            var lines = documents.OrderBy(d => d.Source, StringComparer.Ordinal).Select(d => $"{d.Source}\t{d.ContentHash}\t{d.ChunkCount}\n");
            var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(lines))));
            Console.WriteLine($"documents {documents.Count}");
            Console.WriteLine($"chunks    {documents.Sum(d => d.ChunkCount)}");
            Console.WriteLine($"sources   {documents.Select(d => d.Source).Distinct().Count()} distinct");
            Console.WriteLine($"digest    {digest}");
            if (store is not IStoreIntegrityCheck checkable) return CliErrors.Ok;
            var integrity = await checkable.CheckIntegrityAsync(ct);
            Console.WriteLine($"integrity {integrity}");
            return integrity == "ok" ? CliErrors.Ok : CliErrors.Failed;
        }, ct));
        command.Subcommands.Add(check);
        return command;
    }
}
