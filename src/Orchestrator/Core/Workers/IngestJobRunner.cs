using Rag.Ingest.Jobs;
using Rag.Ingest.Pipeline;
using Rag.Retrieval.Abstractions;

namespace Rag.Orchestrator.Workers;

/// <summary>
/// Runs one job's request through the ingestion pipeline. Items that fail for a reason of their own are counted
/// in the result; anything else (store or embedder down) propagates, so the queue retries the whole job, which is
/// safe because unchanged documents are skipped.
/// </summary>
public sealed class IngestJobRunner(IngestPipeline pipeline)
{
    public async Task<IngestJobResult> RunAsync(IngestJobRequest request, CancellationToken cancellationToken)
    {
        var tally = new Tally();
        if (request.Paths.Count > 0)
        {
            var summary = await pipeline.IngestAsync(request.Paths, request.Tags, progress: null, cancellationToken);
            // The pipeline reports a store outage per file so that a CLI batch goes on; a job waits for the store instead.
            if (summary.Failed.Where(f => f.Retryable).ToList() is { Count: > 0 } retryable)
                throw new IngestRetryException($"{retryable.Count} file(s) could not be stored, e.g. {retryable[0].Path}: {retryable[0].Reason}");
            tally.Add(summary);
        }

        foreach (IngestTextItem item in request.Texts)
        {
            try
            {
                tally.Add(await pipeline.IngestTextAsync(item.Text, item.Source, item.Title, request.Tags, cancellationToken));
            }
            catch (ArgumentException e)
            {
                tally.Fail($"{item.Source}: {e.Message}");
            }
        }

        return tally.ToResult();
    }

    private sealed class Tally
    {
        private readonly List<string> _errors = [];
        private int _added, _unchanged, _replaced, _failed;

        public void Add(IngestSummary summary)
        {
            _added += summary.Added.Count;
            _unchanged += summary.Unchanged.Count;
            _replaced += summary.Replaced.Count;
            foreach (string path in summary.SkippedUnknown)
                Fail($"{path}: no loader for this file type");
            // Reported, but no failure: an empty file has nothing to index, and retrying cannot change that.
            foreach (var skipped in summary.SkippedEmpty)
                _errors.Add($"{skipped.Path}: skipped, {skipped.Reason}");
            foreach (var failure in summary.Failed)
                Fail($"{failure.Path}: {failure.Reason}");
        }

        public void Add(UpsertOutcome outcome)
        {
            switch (outcome)
            {
                case UpsertOutcome.Added: _added++; break;
                case UpsertOutcome.Unchanged: _unchanged++; break;
                case UpsertOutcome.Replaced: _replaced++; break;
            }
        }

        public void Fail(string error)
        {
            _failed++;
            _errors.Add(error);
        }

        public IngestJobResult ToResult() => new(_added, _unchanged, _replaced, _failed, _errors);
    }
}

/// <summary>The attempt failed for a reason outside the job's items (store or embedding service); the queue retries it.</summary>
public sealed class IngestRetryException(string message) : Exception(message);
