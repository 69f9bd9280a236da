using Microsoft.Extensions.DependencyInjection;
using Rag.Ingest.Pipeline;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Tests;

/// <summary>One service graph shared by the pipeline cases that need no limits of their own.</summary>
public sealed class HostilePipelineFixture : IAsyncLifetime
{
    internal RagTestHost Host { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Host = new RagTestHost(new Dictionary<string, string?>(HostileInputCases.SharedSettings));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>Hostile files through <c>rag ingest</c>'s path: <see cref="IngestPipeline.IngestAsync"/> over a temp folder.</summary>
public sealed class HostileInputPipelineTests(HostilePipelineFixture fixture) : IClassFixture<HostilePipelineFixture>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("rag-hostile-").FullName;

    [Theory]
    [MemberData(nameof(HostileInputCases.FileData), MemberType = typeof(HostileInputCases))]
    public async Task Hostile_file_is_reported_clearly_and_nothing_partial_is_stored(HostileFile hostile)
    {
        await using var dedicated = hostile.Settings is null ? null : new RagTestHost(new Dictionary<string, string?>(hostile.Settings));
        var services = (dedicated ?? fixture.Host).Services;
        var path = Path.Combine(_folder, hostile.FileName);
        await File.WriteAllBytesAsync(path, hostile.Content());

        var summary = await services.GetRequiredService<IngestPipeline>().IngestAsync([_folder]);

        var stored = await StoredAsync(services, hostile.FileName);
        switch (hostile.Outcome)
        {
            case HostileOutcome.Rejected:
                var failure = Assert.Single(summary.Failed);
                Assert.Equal(path, failure.Path);
                Assert.Contains(hostile.Rule!, failure.Reason, StringComparison.OrdinalIgnoreCase);
                Assert.Empty(summary.Added);
                Assert.Null(stored);
                break;
            case HostileOutcome.SkippedUnknown:
                Assert.Equal([path], summary.SkippedUnknown);
                Assert.Null(stored);
                break;
            case HostileOutcome.SkippedEmpty:
                Assert.Empty(summary.Failed);
                Assert.Equal([(path, hostile.Rule)], summary.SkippedEmpty.Select(s => (s.Path, (string?)s.Reason)));
                Assert.Null(stored);
                break;
            case HostileOutcome.Stored:
                Assert.Empty(summary.Failed);
                Assert.Equal([path], summary.Added);
                Assert.True(stored?.ChunkCount > 0, "the document must be stored with its chunks");
                Assert.Equal(summary.Chunks, stored!.ChunkCount);
                break;
        }
    }

    [Fact]
    public async Task A_folder_of_every_hostile_file_still_ingests_its_one_good_file()
    {
        foreach (var hostile in HostileInputCases.Files.Where(f => f.Settings is null))
            await File.WriteAllBytesAsync(Path.Combine(_folder, hostile.FileName), hostile.Content());
        await File.WriteAllTextAsync(Path.Combine(_folder, "good.txt"), "The quokka colony of Rottnest island is the largest.");

        var summary = await fixture.Host.Services.GetRequiredService<IngestPipeline>().IngestAsync([_folder]);

        Assert.Equal([Path.Combine(_folder, "good.txt")], summary.Added.Except(StoredNames(HostileOutcome.Stored)));
        Assert.Equal(HostileInputCases.Files.Count(f => f.Settings is null && f.Outcome == HostileOutcome.Rejected), summary.Failed.Count);
        Assert.True((await StoredAsync(fixture.Host.Services, "good.txt"))?.ChunkCount > 0);
    }

    [Fact]
    public async Task Ten_thousand_tiny_files_in_one_folder_are_each_stored_once()
    {
        const int count = 10_000;
        for (int i = 0; i < count; i++)
            await File.WriteAllTextAsync(Path.Combine(_folder, $"tiny-{i:D5}.txt"), $"note {i}");

        var summary = await fixture.Host.Services.GetRequiredService<IngestPipeline>().IngestAsync([_folder]);

        Assert.Empty(summary.Failed);
        Assert.Equal(count, summary.Added.Count + summary.Unchanged.Count);
        Assert.Equal(count, summary.Added.Distinct().Count() + summary.Unchanged.Count);
    }

    [Fact]
    public async Task A_symlink_loop_in_the_folder_walk_ends_and_each_file_is_read_once()
    {
        var inner = Directory.CreateDirectory(Path.Combine(_folder, "inner"));
        await File.WriteAllTextAsync(Path.Combine(inner.FullName, "looped.txt"), "A file inside a folder that links back to its parent.");
        Directory.CreateSymbolicLink(Path.Combine(inner.FullName, "back-to-root"), _folder);
        Directory.CreateSymbolicLink(Path.Combine(inner.FullName, "self"), inner.FullName);

        var summary = await fixture.Host.Services.GetRequiredService<IngestPipeline>().IngestAsync([_folder]);

        Assert.Empty(summary.Failed);
        Assert.Single(summary.Added.Concat(summary.Unchanged), p => p.EndsWith("looped.txt", StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private IEnumerable<string> StoredNames(HostileOutcome outcome) =>
        HostileInputCases.Files.Where(f => f.Settings is null && f.Outcome == outcome).Select(f => Path.Combine(_folder, f.FileName));

    /// <summary>The stored document whose source is this folder's file, if any.</summary>
    private async Task<DocumentInfo?> StoredAsync(IServiceProvider services, string fileName)
    {
        var documents = await services.GetRequiredService<IDocumentStore>().ListDocumentsAsync(0, 20_000);
        return documents.SingleOrDefault(d => d.Source == Path.Combine(_folder, fileName));
    }
}
