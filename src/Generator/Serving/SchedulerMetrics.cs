using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Rag.Generator.Serving;

/// <summary>
/// The meter "Rag.Generator" of the generation schedulers: queue length, batch size, generated and prefilled
/// tokens (a rate of the token counter is tokens/s), prompt tokens served from the state cache, time to first token.
/// Instruments are static (no callback holds a scheduler alive); every scheduler adds to them.
/// </summary>
public static class SchedulerMetrics
{
    public const string MeterName = "Rag.Generator";

    private static readonly Meter Meter = new(MeterName);

    internal static readonly UpDownCounter<int> QueueLength =
        Meter.CreateUpDownCounter<int>("rag.generator.queue_length", unit: "{request}", description: "Requests waiting for a batch slot.");

    internal static readonly UpDownCounter<int> ActiveSequences =
        Meter.CreateUpDownCounter<int>("rag.generator.active_sequences", unit: "{sequence}", description: "Sequences in the running batch (prefilling or decoding).");

    internal static readonly Histogram<int> BatchSize =
        Meter.CreateHistogram<int>("rag.generator.batch_size", unit: "{sequence}", description: "Sequences decoded by one batched step.");

    internal static readonly Counter<long> GeneratedTokens =
        Meter.CreateCounter<long>("rag.generator.generated_tokens", unit: "{token}", description: "Tokens generated (its rate is tokens/s).");

    internal static readonly Counter<long> PrefilledTokens =
        Meter.CreateCounter<long>("rag.generator.prefilled_tokens", unit: "{token}", description: "Prompt tokens run through the model.");

    internal static readonly Counter<long> CachedTokens =
        Meter.CreateCounter<long>("rag.generator.cached_tokens", unit: "{token}", description: "Prompt tokens resumed from the state cache instead of prefilled.");

    internal static readonly Histogram<double> TimeToFirstToken =
        Meter.CreateHistogram<double>("rag.generator.time_to_first_token", unit: "s", description: "From a request's arrival to its first sampled token.");

    /// <summary>Where a scheduler step's time goes, by phase: "prepare" (the rows' sampling settings to the device),
    /// "decode" (the batched forward and draw, waited for), "accept" (stop sequences, detokenising and streaming the
    /// rows' tokens, finished rows leaving), "prefill" (newcomers' prompt slices and first tokens).</summary>
    internal static readonly Histogram<double> StepPhaseDuration =
        Meter.CreateHistogram<double>("rag.generator.step_phase_duration", unit: "s", description: "Time of one phase of a scheduler step.");

    internal static void RecordPhase(string phase, long startTimestamp) =>
        StepPhaseDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>("phase", phase));

    internal static readonly Counter<long> Refused =
        Meter.CreateCounter<long>("rag.generator.refused_requests", unit: "{request}", description: "Requests refused because the queue was full.");
}
