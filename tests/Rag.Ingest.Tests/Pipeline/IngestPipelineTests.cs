using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rag.Ingest.Chunking;
using Rag.Ingest.Loading;
using Rag.Ingest.Pipeline;
using Rag.Retrieval.Abstractions;

namespace Rag.Ingest.Tests.Pipeline;

public sealed class IngestPipelineTests : IDisposable
{
    private static readonly TokenChunker Chunker = TokenChunker.Create(new IngestOptions { ChunkTokens = 32, ChunkOverlapTokens = 4 });

    private readonly TempFolder _folder = new();
    private readonly RecordingStore _store = new(new InMemoryDocumentStore());

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task SecondRun_FindsEverythingUnchanged_AndStoresNothing()
    {
        _folder.Write("a.txt", "Alpha text.");
        _folder.Write("docs/b.md", "# Beta\n\nBeta text.");
        _folder.Write("docs/c.html", "<p>Gamma text.</p>");

        IngestSummary first = await CreatePipeline().IngestAsync([_folder.Path]);
        IngestSummary second = await CreatePipeline().IngestAsync([_folder.Path]);

        Assert.Equal(3, first.Added.Count);
        Assert.Empty(first.Failed);
        Assert.Equal(first.Added, second.Unchanged);
        Assert.Empty(second.Added);
        Assert.Empty(second.Replaced);
        Assert.Equal(0, second.Chunks);
        Assert.Equal(3, _store.Upserts.Count);
    }

    [Fact]
    public async Task ChangedFile_IsReplaced_OthersUnchanged()
    {
        string changing = _folder.Write("changing.txt", "First version.");
        string stable = _folder.Write("stable.txt", "Never changes.");
        await CreatePipeline().IngestAsync([_folder.Path]);

        File.WriteAllText(changing, "Second version, with more words than before.");
        IngestSummary summary = await CreatePipeline().IngestAsync([_folder.Path]);

        Assert.Equal([changing], summary.Replaced);
        Assert.Equal([stable], summary.Unchanged);
        DocumentInfo stored = (await _store.FindBySourceAsync(changing))!;
        IReadOnlyList<ChunkRecord> chunks = await _store.GetChunksAsync(stored.Id);
        Assert.Equal("Second version, with more words than before.", Assert.Single(chunks).Text);
    }

    [Fact]
    public async Task UnchangedFile_WithNewTags_HasItsTagsUpdated_WithoutRechunking()
    {
        string file = _folder.Write("tagged.txt", "Tagged text.");
        await CreatePipeline().IngestAsync([_folder.Path], ["draft"]);

        IngestSummary retagged = await CreatePipeline().IngestAsync([_folder.Path], ["published", "kb"]);
        IngestSummary again = await CreatePipeline().IngestAsync([_folder.Path], ["kb", "published"]);

        Assert.Equal([file], retagged.Replaced);
        Assert.Equal(0, retagged.Chunks);
        Assert.Single(_store.Upserts);
        DocumentInfo stored = (await _store.FindBySourceAsync(file))!;
        Assert.Equal(["published", "kb"], stored.Tags);
        Assert.Equal([file], again.Unchanged);
        Assert.Single(_store.TagUpdates);
    }

    [Fact]
    public async Task Failures_AreReported_WhileTheRestOfTheBatchIsStored()
    {
        string good = _folder.Write("1-good.txt", "Good text.");
        string empty = _folder.Write("2-empty.txt", "");
        string corrupt = _folder.Write("3-corrupt.pdf", "not a pdf"u8.ToArray());
        string unknown = _folder.Write("4-image.png", [1, 2, 3]);
        string storeFails = _folder.Write("5-store-fails.txt", "The store will refuse this one.");
        string nested = _folder.Write("sub/6-nested.md", "Nested text.");
        string missing = Path.Combine(_folder.Path, "missing.txt");
        _store.FailUpsertFor = storeFails;

        IngestSummary summary = await CreatePipeline().IngestAsync([missing, _folder.Path]);

        Assert.Equal([good, nested], summary.Added);
        Assert.Equal([unknown], summary.SkippedUnknown);
        // An empty file is no failure: it is skipped, with the reason.
        Assert.Equal([(empty, "file is empty")], summary.SkippedEmpty.Select(s => (s.Path, s.Reason)));
        Assert.Equal([missing, corrupt, storeFails], summary.Failed.Select(f => f.Path));
        Assert.Collection(summary.Failed,
            f => Assert.Equal("path does not exist", f.Reason),
            f => Assert.StartsWith("not a valid .pdf file", f.Reason),
            f => Assert.Equal("IOException: disk full", f.Reason));
        // Only the store's failure may go away on its own; the files' own faults are final.
        Assert.Equal([false, false, true], summary.Failed.Select(f => f.Retryable));
        foreach (string failed in new[] { empty, corrupt, storeFails })
            Assert.Null(await _store.FindBySourceAsync(failed));
    }

    [Fact]
    public async Task WithRoots_FilesOutside_AreRefused_AndTheirContentIsNeverStored()
    {
        string root = Path.Combine(_folder.Path, "root");
        string good = _folder.Write("root/a.txt", "Alpha text.");
        string secret = _folder.Write("outside/secret.txt", "Top secret text.");
        string link = _folder.Link("root/b-link.txt", secret);

        IngestSummary summary = await CreatePipeline(roots: [root]).IngestAsync([root, secret]);

        Assert.Equal([good], summary.Added);
        Assert.Equal([link, secret], summary.Failed.Select(f => f.Path));
        Assert.All(summary.Failed, f => Assert.EndsWith("outside the ingest roots (Ingest:Roots)", f.Reason));
        Assert.DoesNotContain(_store.Upserts.SelectMany(u => u.Chunks), c => c.Text.Contains("secret", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Embeddings_AreGeneratedInBatches_AndStoredWithTheirChunks()
    {
        string path = _folder.Write("long.txt", Chunking.SampleText.Prose(paragraphs: 12, seed: 5));
        var embedder = new LengthEmbeddingGenerator();

        await CreatePipeline(embedder, batchSize: 3).IngestAsync([path]);

        IReadOnlyList<ChunkInput> chunks = Assert.Single(_store.Upserts).Chunks;
        Assert.True(chunks.Count > 3);
        Assert.Equal(chunks.Count, embedder.BatchSizes.Sum());
        Assert.All(embedder.BatchSizes, size => Assert.InRange(size, 1, 3));
        Assert.All(chunks, c => Assert.Equal([c.Text.Length], c.Embedding.ToArray()));
    }

    [Fact]
    public async Task WithoutEmbedder_ChunksAreStoredWithEmptyVectors_AndTags()
    {
        string path = _folder.Write("note.txt", "A note.");

        await CreatePipeline().IngestAsync([path], tags: ["team-a", "2024"]);

        DocumentInput stored = Assert.Single(_store.Upserts);
        Assert.Equal(["team-a", "2024"], stored.Tags);
        Assert.Equal("note", stored.Title);
        ChunkInput chunk = Assert.Single(stored.Chunks);
        Assert.Equal((0, "A note.", 0, 7), (chunk.Ordinal, chunk.Text, chunk.StartOffset, chunk.EndOffset));
        Assert.True(chunk.Embedding.IsEmpty);
    }

    [Fact]
    public async Task Progress_IsReportedAfterEveryFile()
    {
        _folder.Write("a.txt", "One.");
        _folder.Write("b.txt", "Two.");
        _folder.Write("c.bin", "skipped");
        var progress = new RecordingProgress();

        IngestSummary summary = await CreatePipeline().IngestAsync([_folder.Path], progress: progress);

        Assert.Equal([1, 2, 3], progress.Reports.Select(p => p.FilesDone));
        Assert.All(progress.Reports, p => Assert.Equal(3, p.FilesTotal));
        IngestProgress last = progress.Reports[^1];
        Assert.Equal(summary.Chunks, last.Chunks);
        Assert.Equal(8, last.Bytes);
        Assert.EndsWith("c.bin", last.CurrentFile);
    }

    [Fact]
    public async Task Cancellation_StopsBetweenFiles()
    {
        _folder.Write("a.txt", "One.");
        _folder.Write("b.txt", "Two.");
        using var cancellation = new CancellationTokenSource();
        var cancelAfterFirst = new RecordingProgress(_ => cancellation.Cancel());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => CreatePipeline().IngestAsync([_folder.Path], progress: cancelAfterFirst, cancellationToken: cancellation.Token));

        Assert.Single(_store.Upserts);
    }

    [Fact]
    public async Task EachFile_HasAnActivity_FailuresMarkedAsErrors()
    {
        string good = _folder.Write("good.txt", "Fine.");
        string bad = _folder.Write("bad.txt", "");
        var activities = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == IngestTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("file.path") is string path && path.StartsWith(_folder.Path, StringComparison.Ordinal))
                    lock (activities) activities.Add(activity);
            },
        };
        ActivitySource.AddActivityListener(listener);

        await CreatePipeline().IngestAsync([_folder.Path]);

        Assert.Collection(activities.OrderBy(a => (string)a.GetTagItem("file.path")!, StringComparer.Ordinal),
            a => Assert.Equal((bad, ActivityStatusCode.Error), ((string)a.GetTagItem("file.path")!, a.Status)),
            a => Assert.Equal((good, ActivityStatusCode.Unset, "Added"), ((string)a.GetTagItem("file.path")!, a.Status, (string)a.GetTagItem("rag.ingest.outcome")!)));
    }

    private IngestPipeline CreatePipeline(IEmbeddingGenerator<string, Embedding<float>>? embedder = null, int batchSize = 32,
        IReadOnlyList<string>? roots = null)
    {
        var options = new IngestOptions { EmbeddingBatchSize = batchSize, Roots = roots ?? [] };
        return new IngestPipeline(DocumentLoaderRegistry.CreateDefault(options), Chunker, _store, Options.Create(options),
            NullLogger<IngestPipeline>.Instance, embedder);
    }

    /// <summary>Collects reports synchronously (<see cref="Progress{T}"/> would post them later).</summary>
    private sealed class RecordingProgress(Action<IngestProgress>? onReport = null) : IProgress<IngestProgress>
    {
        public List<IngestProgress> Reports { get; } = [];

        public void Report(IngestProgress value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }
}
