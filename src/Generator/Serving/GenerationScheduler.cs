using System.Diagnostics;
using System.Runtime.CompilerServices;
using Rag.Generator.Generation;
using Rag.Generator.Model;
using Rag.Generator.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Serving;

/// <summary>
/// Continuous batching over one model: every request in flight is a row of one batch state, and each step runs
/// ONE forward of the running rows' last tokens [B, 1]. Requests join at step boundaries and leave when done,
/// cancelled or disconnected, so a decode step for many conversations costs about one for a single one.
/// </summary>
/// <remarks>
/// A step: drop cancelled rows; one batched decode step (each row samples with its own settings and stop
/// sequences); then newcomers' prompts are prefilled, each in its own one-sequence state, in slices of at most
/// Generator:PrefillTokensPerStep tokens and no more than that many per step, so a long prompt stalls the
/// running streams by at most one slice per step. A prompt's slices always start at the same positions whatever
/// else runs, and batched rows do not mix, so a request's text does not depend on its neighbours. A finished
/// request's state goes into the <see cref="StateCache"/>; a prompt that starts with a kept sequence resumes
/// from it. Requests beyond the batch wait in a bounded queue; beyond that they are refused with
/// <see cref="GeneratorBusyException"/>. One thread runs the steps while there is work and ends when idle.
/// </remarks>
public sealed class GenerationScheduler : IDisposable
{
    public static readonly ActivitySource ActivitySource = new("Rag.Generator");

    private static readonly ConditionalWeakTable<ILanguageModel, GenerationScheduler> PerModel = new();

    private readonly ILanguageModel _model;
    private readonly WorldTokenizer _tokenizer;
    private readonly GeneratorOptions _options;
    private readonly int _vocabSize;
    private readonly Lock _gate = new();
    private readonly Queue<ScheduledSequence> _waiting = new();  // under _gate
    private int _admitted;                                       // prefilling + decoding, under _gate
    private bool _running, _sleeping, _disposed;                 // under _gate
    private readonly ManualResetEventSlim _idle = new(true);      // set while no request is in flight and the batch state is freed
    private readonly ManualResetEventSlim _stopped = new(true);   // set while no step thread runs
    private readonly SemaphoreSlim _wake = new(0);                // wakes a sleeping step thread

    /// <summary>How long an idle step thread waits for work before it ends: a thread per burst of requests would
    /// be started and ended at every lull (and short-lived threads blur the GC's heap figures).</summary>
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(30);

    // Owned by the step thread.
    private readonly List<ScheduledSequence> _prefilling = [];
    private readonly List<ScheduledSequence> _decoding = [];     // row i of the batch state is _decoding[i]
    private IModelState? _batch;
    private double _meanRequestSeconds = 1;

    public GenerationScheduler(ILanguageModel model, WorldTokenizer tokenizer, GeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Problems().FirstOrDefault(p => !p.Contains("Path", StringComparison.Ordinal)) is { } problem)
            throw new ArgumentException(problem, nameof(options));
        _model = model;
        _tokenizer = tokenizer;
        _options = options;
        // Ids the model may emit beyond the vocabulary (padding of the embedding) are never sampled.
        _vocabSize = Math.Min(model.VocabSize, tokenizer.VocabSize);
        Cache = new StateCache(model.Device, options.StateCacheBytes, options.StateCacheHostBytes);
    }

    /// <summary>The scheduler of <paramref name="model"/>, created with these settings by its first caller: one per loaded model.</summary>
    public static GenerationScheduler For(ILanguageModel model, WorldTokenizer tokenizer, GeneratorOptions options) =>
        PerModel.GetValue(model, m => new GenerationScheduler(m, tokenizer, options));

    public WorldTokenizer Tokenizer => _tokenizer;

    public GeneratorOptions Options => _options;

    public StateCache Cache { get; }

    /// <summary>Requests waiting for a batch slot.</summary>
    public int QueueLength
    {
        get { lock (_gate) return _waiting.Count; }
    }

    /// <summary>Requests holding a batch slot (prefilling or decoding).</summary>
    public int ActiveCount
    {
        get { lock (_gate) return _admitted; }
    }

    /// <summary>True when nothing is queued or running and the batch state is freed.</summary>
    public bool IsIdle => _idle.IsSet;

    /// <summary>Waits until nothing is queued or running and the batch state is freed, at most <paramref name="timeout"/>.</summary>
    public bool WaitIdle(TimeSpan timeout) => _idle.Wait(timeout);

    /// <summary>
    /// Token ids of a prompt text. Where the text starts with the text of a kept sequence (the previous turn of
    /// the conversation, as the model read it), those exact ids come first, so the prompt resumes from its state.
    /// </summary>
    public int[] Encode(string prompt)
    {
        if (Cache.Enabled && Cache.FindText(prompt) is { } kept)
            return [.. kept.Ids, .. _tokenizer.EncodeToIds(prompt[kept.Chars..])];
        return [.. _tokenizer.EncodeToIds(prompt)];
    }

    /// <summary>
    /// Queues a generation; its text pieces come out of the returned sequence's channel, which completes when it
    /// ends (with the error, if one occurred). The caller cancels it (<see cref="ScheduledSequence.Cancel"/>) when
    /// its client goes away.
    /// </summary>
    /// <exception cref="GeneratorBusyException">The queue is full.</exception>
    internal ScheduledSequence Submit(int[] prompt, SamplingOptions sampling, TextGeneration generation)
    {
        var sequence = new ScheduledSequence(prompt, sampling, generation, _tokenizer, Activity.Current?.Context ?? default);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int free = Math.Max(0, _options.MaxBatchSize - _admitted);
            if (_waiting.Count - free >= _options.MaxQueuedRequests)
            {
                sequence.Close();
                SchedulerMetrics.Refused.Add(1);
                var queued = _waiting.Count;
                throw new GeneratorBusyException(queued, TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(
                    Volatile.Read(ref _meanRequestSeconds) * (1 + queued / (double)_options.MaxBatchSize)))));
            }
            _waiting.Enqueue(sequence);
            SchedulerMetrics.QueueLength.Add(1);
            _idle.Reset();
            if (_sleeping)
            {
                _sleeping = false;
                _wake.Release();
            }
            else if (!_running)
            {
                _running = true;
                _stopped.Reset();
                // UnsafeStart: the step thread must not inherit the first caller's execution context (its activity).
                new Thread(Run) { IsBackground = true, Name = "rag-generation-scheduler" }.UnsafeStart();
            }
        }
        return sequence;
    }

    private void Run()
    {
        using var noGrad = torch.no_grad();
        while (true)
        {
            bool sleep = false;
            lock (_gate)
            {
                Admit();
                if (_disposed || _admitted == 0)
                {
                    foreach (var sequence in _prefilling.Concat(_decoding)) Close(sequence, new ObjectDisposedException(nameof(GenerationScheduler)));
                    SchedulerMetrics.ActiveSequences.Add(-_admitted);
                    _prefilling.Clear();
                    _decoding.Clear();
                    _admitted = 0;
                    _batch?.Dispose();
                    _batch = null;
                    _idle.Set();
                    if (_disposed)
                    {
                        Cache.Dispose();
                        _running = false;
                        _stopped.Set();
                        return;
                    }
                    _sleeping = sleep = true;
                }
            }
            if (!sleep) Step();
            else if (!Sleep()) return;
        }
    }

    /// <summary>Waits for work; false when none came within <see cref="Linger"/> (the thread then ends).</summary>
    private bool Sleep()
    {
        bool woken = _wake.Wait(Linger);
        lock (_gate)
        {
            if (woken || !_sleeping) return true;  // a request (or Dispose) came in, maybe just as the wait timed out
            _sleeping = false;
            _running = false;
            _stopped.Set();
            return false;
        }
    }

    /// <summary>Moves waiting requests into free batch slots (under the gate); cancelled ones are dropped.</summary>
    private void Admit()
    {
        while (_waiting.Count > 0 && (_admitted < _options.MaxBatchSize || _waiting.Peek().Cancelled))
        {
            var sequence = _waiting.Dequeue();
            SchedulerMetrics.QueueLength.Add(-1);
            if (sequence.Cancelled)
            {
                Close(sequence);
                continue;
            }
            _prefilling.Add(sequence);
            _admitted++;
            SchedulerMetrics.ActiveSequences.Add(1);
        }
    }

    private void Step()
    {
        for (int row = _decoding.Count - 1; row >= 0; row--)
            if (_decoding[row].Cancelled) Leave(row, keep: false);
        foreach (var sequence in _prefilling.Where(s => s.Cancelled).ToList()) Retire(sequence, _prefilling);

        if (_decoding.Count > 0) DecodeStep();
        if (_prefilling.Count > 0)
        {
            long start = Stopwatch.GetTimestamp();
            PrefillStep();
            SchedulerMetrics.RecordPhase("prefill", start);
        }
    }

    /// <summary>One forward of every decoding row's last token, then one batched draw of each row's next one, by its own settings.</summary>
    private void DecodeStep()
    {
        int batch = _decoding.Count;
        var finished = new List<int>();
        long start = Stopwatch.GetTimestamp();  // of each phase in turn; the last, accepting the tokens, ends after the finished rows leave
        try
        {
            using var scope = torch.NewDisposeScope();
            // Token ids go in as host tensors: the model checks them there, where a device tensor's check would wait for the GPU.
            var input = torch.tensor(_decoding.Select(s => (long)s.Generated[^1]).ToArray(), [batch, 1]);
            // Uploaded before the forward, so that the step waits for the device once: when the tokens are read back.
            using var draw = BatchDraw.Prepare([.. _decoding.Select(s => new SamplingRow(s.Sampler, s.TokenCounts))], _vocabSize, _model.Device);
            SchedulerMetrics.RecordPhase("prepare", start);
            start = Stopwatch.GetTimestamp();
            using var rows = _batch!.Slice(0, batch);
            var logits = _model.Forward(input, rows).narrow(1, 0, _vocabSize);
            SchedulerMetrics.BatchSize.Record(batch);
            var tokens = draw.Sample(logits);
            SchedulerMetrics.RecordPhase("decode", start);
            start = Stopwatch.GetTimestamp();
            for (int row = 0; row < batch; row++)
            {
                var sequence = _decoding[row];
                sequence.Forwarded++;
                if (Accept(sequence, tokens[row])) finished.Add(row);
            }
        }
        catch (Exception e)
        {
            // The batch state may be half advanced: every running row fails, and the next rows start from a fresh one.
            foreach (var sequence in _decoding) Retire(sequence, null, e);
            _decoding.Clear();
            _batch?.Dispose();
            _batch = null;
            return;
        }
        for (int i = finished.Count - 1; i >= 0; i--) Leave(finished[i], keep: true);
        SchedulerMetrics.RecordPhase("accept", start);
    }

    /// <summary>Prefills newcomers, oldest first, in fixed slices, up to the per-step token budget.</summary>
    private void PrefillStep()
    {
        int slice = _options.ResolvePrefillTokensPerStep(_model.Device), used = 0;
        foreach (var sequence in _prefilling.ToList())
        {
            try
            {
                if (sequence.State is null) Start(sequence);
                while (sequence.Position < sequence.Prompt.Length)
                {
                    int length = Math.Min(slice, sequence.Prompt.Length - sequence.Position);
                    if (used > 0 && used + length > slice) return;
                    using var input = torch.tensor(sequence.Prompt.Skip(sequence.Position).Take(length).Select(id => (long)id).ToArray(),
                        [1, length]);
                    sequence.Logits?.Dispose();
                    sequence.Logits = _model.Forward(input, sequence.State!);
                    sequence.Position += length;
                    used += length;
                    SchedulerMetrics.PrefilledTokens.Add(length);
                }
                Join(sequence);
            }
            catch (Exception e)
            {
                Retire(sequence, _prefilling, e);
            }
        }
    }

    /// <summary>A newcomer's own state: resumed from the longest kept prefix of its prompt (at least its last
    /// token is left to read, for the logits), or zeros.</summary>
    private void Start(ScheduledSequence sequence)
    {
        Quietly(() => sequence.Prefill = ActivitySource.StartActivity("prefill", ActivityKind.Internal, sequence.Parent));
        sequence.Prefill?.SetTag("gen_ai.usage.input_tokens", sequence.Prompt.Length);
        if (Cache.Resume(sequence.Prompt, sequence.Prompt.Length - 1) is { } kept)
        {
            sequence.State = kept.State;
            sequence.Position = kept.Length;
            sequence.Generation.CachedPromptTokenCount = kept.Length;
            SchedulerMetrics.CachedTokens.Add(kept.Length);
        }
        else
        {
            sequence.State = _model.CreateState(batch: 1);
        }
        sequence.Prefill?.SetTag("rag.cached_tokens", sequence.Position);
    }

    /// <summary>The prompt is read: the first token is sampled, and the sequence takes the next batch row.</summary>
    private void Join(ScheduledSequence sequence)
    {
        bool done;
        using (var logits = sequence.Logits!.narrow(1, 0, _vocabSize))
        using (var draw = BatchDraw.Prepare([new SamplingRow(sequence.Sampler, sequence.TokenCounts)], _vocabSize, logits.device))
            done = Accept(sequence, draw.Sample(logits)[0]);
        sequence.Logits.Dispose();
        sequence.Logits = null;
        if (done)
        {
            Keep(sequence, sequence.State!);
            sequence.State = null;
            Retire(sequence, _prefilling);
            return;
        }
        _batch ??= _model.CreateState(_options.MaxBatchSize);
        _batch.CopySequence(_decoding.Count, sequence.State!, 0);
        sequence.State!.Dispose();
        sequence.State = null;
        _prefilling.Remove(sequence);
        _decoding.Add(sequence);
    }

    /// <summary>Takes a sampled token; true when the sequence has ended (end of text, a stop sequence, the token limit).</summary>
    private bool Accept(ScheduledSequence sequence, int token)
    {
        var generation = sequence.Generation;
        generation.CompletionTokenCount++;
        SchedulerMetrics.GeneratedTokens.Add(1);
        if (generation.CompletionTokenCount == 1)
        {
            SchedulerMetrics.TimeToFirstToken.Record(Stopwatch.GetElapsedTime(sequence.ArrivedAt).TotalSeconds);
            Quietly(() =>
            {
                sequence.Prefill?.Stop();
                sequence.Decode = ActivitySource.StartActivity("decode", ActivityKind.Internal, sequence.Parent);
            });
        }
        if (token == WorldTokenizer.EndOfTextId) return Finish(sequence, FinishReason.Stop);
        sequence.Generated.Add(token);
        // Older occurrences fade by the penalty decay per generated token, as in RWKV's chat servers.
        if (sequence.Sampling.PenaltyDecay < 1)
            foreach (var id in sequence.TokenCounts.Keys.ToArray()) sequence.TokenCounts[id] *= sequence.Sampling.PenaltyDecay;
        sequence.TokenCounts[token] = sequence.TokenCounts.GetValueOrDefault(token) + 1;
        var text = sequence.Stops.Push(sequence.Decoder.Append(token));
        if (text.Length > 0) sequence.Output.Writer.TryWrite(text);
        if (sequence.Stops.Stopped) return Finish(sequence, FinishReason.Stop);
        if (generation.CompletionTokenCount >= sequence.Sampling.MaxTokens) return Finish(sequence, FinishReason.Length);
        return false;
    }

    private static bool Finish(ScheduledSequence sequence, FinishReason reason)
    {
        // An unfinished character or held-back text that did not become a stop sequence is still output.
        var rest = sequence.Stops.Push(sequence.Decoder.Flush()) + sequence.Stops.Flush();
        if (rest.Length > 0) sequence.Output.Writer.TryWrite(rest);
        var generation = sequence.Generation;
        generation.FinishReason = sequence.Stops.Stopped ? FinishReason.Stop : reason;
        generation.ReadTokens = sequence.ReadTokens();
        generation.UnreadToken = sequence.Generated.Count > sequence.Forwarded ? sequence.Generated[^1] : null;
        sequence.Decode?.SetTag("gen_ai.usage.output_tokens", generation.CompletionTokenCount);
        sequence.Decode?.SetTag("gen_ai.response.finish_reasons", generation.FinishReason.ToString());
        return true;
    }

    /// <summary>Row <paramref name="row"/> leaves the batch; the last row moves into its place.</summary>
    private void Leave(int row, bool keep)
    {
        var sequence = _decoding[row];
        if (keep && Cache.Enabled) Keep(sequence, _batch!.CopyOut(row, _model.Device));
        int last = _decoding.Count - 1;
        if (row != last)
        {
            _batch!.CopySequence(row, _batch, last);
            _decoding[row] = _decoding[last];
        }
        _decoding.RemoveAt(last);
        Retire(sequence, null);
    }

    /// <summary>Hands a finished sequence's state (one sequence, now the cache's) to the cache under the tokens it read.</summary>
    private void Keep(ScheduledSequence sequence, IModelState state)
    {
        var read = sequence.ReadTokens();
        Cache.Add(read, _tokenizer.Decode(read), state);
    }

    /// <summary>Ends a sequence that has left its batch row (or never had one) and frees its slot.</summary>
    private void Retire(ScheduledSequence sequence, List<ScheduledSequence>? from, Exception? error = null)
    {
        from?.Remove(sequence);
        if (!sequence.Cancelled && error is null)
        {
            double seconds = Stopwatch.GetElapsedTime(sequence.ArrivedAt).TotalSeconds;
            Volatile.Write(ref _meanRequestSeconds, 0.9 * _meanRequestSeconds + 0.1 * seconds);
        }
        Close(sequence, error);
        lock (_gate) _admitted--;
        SchedulerMetrics.ActiveSequences.Add(-1);
    }

    private static void Close(ScheduledSequence sequence, Exception? error = null)
    {
        Quietly(() =>
        {
            sequence.Prefill?.Dispose();
            sequence.Decode?.Dispose();
        });
        sequence.Close(error);
    }

    /// <summary>Starts or stops request activities on the step thread without leaving one as its current activity.</summary>
    private static void Quietly(Action action)
    {
        var current = Activity.Current;
        action();
        Activity.Current = current;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var sequence in _waiting) Close(sequence, new ObjectDisposedException(nameof(GenerationScheduler)));
            SchedulerMetrics.QueueLength.Add(-_waiting.Count);
            _waiting.Clear();
            // A running step thread disposes the rest when it sees the flag; without one it is done now.
            if (!_running) Cache.Dispose();
            if (_sleeping)
            {
                _sleeping = false;
                _wake.Release();
            }
        }
        // The model is disposed after its scheduler: no forward may still be running then.
        _stopped.Wait();
    }
}
