using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rag.Ingest.Chunking;
using Rag.Ingest.Loading;
using Rag.Retrieval.Abstractions;
using Rag.Retrieval.Embeddings;

namespace Rag.Ingest.Pipeline;

/// <summary>
/// Load → skip if unchanged → chunk → embed → upsert, file by file. A file that fails at any step is reported
/// in the summary and nothing of it is stored (the upsert is the last step and is atomic); the batch goes on.
/// Cancellation is checked between files and passed to the store and the embedding generator.
/// </summary>
public sealed class IngestPipeline(
    DocumentLoaderRegistry loaders,
    TokenChunker chunker,
    IDocumentStore store,
    IOptions<IngestOptions> options,
    ILogger<IngestPipeline> logger,
    IEmbeddingGenerator<string, Embedding<float>>? embedder = null)
{
    private readonly int _embeddingBatchSize = options.Value.EmbeddingBatchSize;
    private readonly IReadOnlyList<string> _roots = options.Value.Roots;

    /// <param name="paths">Files and folders (walked recursively), inside <see cref="IngestOptions.Roots"/> when it is set.</param>
    /// <param name="tags">Stored with every document of this run.</param>
    public async Task<IngestSummary> IngestAsync(
        IEnumerable<string> paths,
        IReadOnlyList<string>? tags = null,
        IProgress<IngestProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        SourceFiles sources = SourceFileWalker.Walk(paths, _roots);
        var run = new RunTally();
        foreach (IngestFailure failure in sources.Failures)
            run.Fail(failure, logger);

        IngestLog.Starting(logger, sources.Files.Count);
        for (int i = 0; i < sources.Files.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string file = sources.Files[i];
            if (loaders.CanLoad(file))
                run.Record(await IngestFileAsync(file, tags ?? [], cancellationToken), logger);
            else
                run.SkipUnknown(file, logger);
            progress?.Report(new IngestProgress(i + 1, sources.Files.Count, run.Chunks, run.Bytes, clock.Elapsed, file));
        }

        IngestSummary summary = run.ToSummary(clock.Elapsed);
        IngestLog.Finished(logger, summary.Elapsed, summary.Added.Count, summary.Replaced.Count, summary.Unchanged.Count,
            summary.SkippedUnknown.Count, summary.Failed.Count);
        return summary;
    }

    private async Task<FileResult> IngestFileAsync(string path, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        using Activity? activity = IngestTelemetry.ActivitySource.StartActivity("ingest.file");
        activity?.SetTag("file.path", path);

        FileResult result = await LoadChunkAndStoreAsync(path, tags, cancellationToken);

        activity?.SetTag("rag.ingest.outcome", result.Outcome?.ToString() ?? "Failed");
        activity?.SetTag("rag.ingest.chunks", result.Chunks);
        if (result.Failure is not null)
            activity?.SetStatus(ActivityStatusCode.Error, result.Failure.Reason);
        return result;
    }

    private async Task<FileResult> LoadChunkAndStoreAsync(string path, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        LoadResult load = await loaders.LoadAsync(path, cancellationToken);
        if (load.IsEmpty)
            return FileResult.Failed(load.Failure!) with { Skipped = true };
        if (load.Document is not { } document)
            return FileResult.Failed(load.Failure!);

        try
        {
            DocumentInfo? stored = await store.FindBySourceAsync(document.Source, cancellationToken);
            if (stored is not null && stored.ContentHash == document.ContentHash)
                return new FileResult(document.Source, await KeepOrRetagAsync(stored, tags, cancellationToken), null, 0, document.ByteCount);

            var (outcome, chunks) = await ChunkEmbedAndStoreAsync(document.Source, document.ContentHash, document.Title, document.Text, tags, cancellationToken);
            return new FileResult(document.Source, outcome, null, chunks, document.ByteCount);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The store or the embedding service failed for this file (a timeout included); the next file may succeed.
            // An ArgumentException is the store refusing this document (e.g. mis-sized embeddings): retrying cannot help.
            return FileResult.Failed(new IngestFailure(document.Source, $"{e.GetType().Name}: {e.Message}", Retryable: e is not ArgumentException));
        }
    }

    /// <summary>
    /// Stores text that did not come from a file (API uploads, agents): same chunking, embedding and
    /// idempotency as files, keyed by <paramref name="source"/>.
    /// </summary>
    public async Task<UpsertOutcome> IngestTextAsync(string text, string source, string? title = null, IReadOnlyList<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        if (!DocumentRules.IsValid(source, text, out var problem)) throw new ArgumentException(problem);
        string hash = DocumentRules.ContentHash(text);
        DocumentInfo? stored = await store.FindBySourceAsync(source, cancellationToken);
        if (stored is not null && stored.ContentHash == hash) return await KeepOrRetagAsync(stored, tags ?? [], cancellationToken);
        return (await ChunkEmbedAndStoreAsync(source, hash, title, text, tags ?? [], cancellationToken)).Outcome;
    }

    /// <summary>
    /// Unchanged content needs no chunking or embedding, but the tags of this run replace the stored ones, as they
    /// would for changed content; a document whose tags changed counts as replaced.
    /// </summary>
    private async Task<UpsertOutcome> KeepOrRetagAsync(DocumentInfo stored, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        if (stored.Tags.ToHashSet(StringComparer.Ordinal).SetEquals(tags))
            return UpsertOutcome.Unchanged;
        await store.UpdateTagsAsync(stored.Id, tags, cancellationToken);
        logger.LogDebug("Tags of unchanged {Source} updated", stored.Source);
        return UpsertOutcome.Replaced;
    }

    private async Task<(UpsertOutcome Outcome, int Chunks)> ChunkEmbedAndStoreAsync(string source, string contentHash, string? title, string text,
        IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        IReadOnlyList<TextChunk> chunks = chunker.Chunk(text);
        IReadOnlyList<ReadOnlyMemory<float>> vectors = await EmbedAsync(chunks, cancellationToken);
        var input = new DocumentInput(source, contentHash, title, tags,
            chunks.Select((c, i) => new ChunkInput(c.Ordinal, c.Text, c.TokenCount, c.StartOffset, c.EndOffset, vectors[i])).ToList());
        return (await store.UpsertAsync(input, cancellationToken), chunks.Count);
    }

    /// <summary>One vector per chunk, in order; empty vectors when no embedding generator is configured.</summary>
    private async Task<IReadOnlyList<ReadOnlyMemory<float>>> EmbedAsync(IReadOnlyList<TextChunk> chunks, CancellationToken cancellationToken)
    {
        if (embedder is null)
            return chunks.Select(_ => ReadOnlyMemory<float>.Empty).ToList();

        var vectors = new List<ReadOnlyMemory<float>>(chunks.Count);
        foreach (TextChunk[] batch in chunks.Chunk(_embeddingBatchSize))
        {
            GeneratedEmbeddings<Embedding<float>> embeddings =
                await embedder.GenerateAsync(batch.Select(c => c.Text), EmbeddingInputType.ForPassage(), cancellationToken);
            if (embeddings.Count != batch.Length)
                throw new InvalidOperationException($"The embedding generator returned {embeddings.Count} vectors for {batch.Length} chunks.");
            vectors.AddRange(embeddings.Select(e => e.Vector));
        }

        return vectors;
    }

    /// <param name="Outcome">Null when the file failed or was skipped.</param>
    private sealed record FileResult(string Source, UpsertOutcome? Outcome, IngestFailure? Failure, int Chunks, long Bytes)
    {
        /// <summary>The file was empty: <see cref="Failure"/> says why it was skipped; it did not fail.</summary>
        public bool Skipped { get; init; }

        public static FileResult Failed(IngestFailure failure) => new(failure.Path, null, failure, 0, 0);
    }

    /// <summary>The running counts of one call, turned into the summary at the end.</summary>
    private sealed class RunTally
    {
        private readonly List<string> _added = [], _unchanged = [], _replaced = [], _skipped = [];
        private readonly List<IngestFailure> _failed = [], _empty = [];

        public int Chunks { get; private set; }

        public long Bytes { get; private set; }

        public void Record(FileResult result, ILogger logger)
        {
            Chunks += result.Chunks;
            Bytes += result.Bytes;
            switch (result.Outcome)
            {
                case null when result.Skipped:
                    _empty.Add(result.Failure!);
                    IngestLog.Skipped(logger, result.Source, result.Failure!.Reason);
                    return;
                case null:
                    Fail(result.Failure!, logger);
                    return;
                case UpsertOutcome.Unchanged:
                    _unchanged.Add(result.Source);
                    IngestLog.Unchanged(logger, result.Source);
                    return;
                case UpsertOutcome.Added:
                    _added.Add(result.Source);
                    break;
                case UpsertOutcome.Replaced:
                    _replaced.Add(result.Source);
                    break;
            }

            IngestLog.Stored(logger, result.Outcome.Value.ToString(), result.Source, result.Chunks);
        }

        public void Fail(IngestFailure failure, ILogger logger)
        {
            _failed.Add(failure);
            IngestLog.Failed(logger, failure.Path, failure.Reason);
        }

        public void SkipUnknown(string path, ILogger logger)
        {
            _skipped.Add(path);
            IngestLog.SkippedUnknown(logger, path);
        }

        public IngestSummary ToSummary(TimeSpan elapsed) => new(_added, _unchanged, _replaced, _skipped, _empty, _failed, Chunks, Bytes, elapsed);
    }
}
