using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;

namespace Rag.Orchestrator.Cli;

/// <summary>
/// Wall-clock time of each stage of one `rag ask`, in order: what a user waits for. "prefill" ends at the first
/// answer text (prompt read and first token sampled); "decode" is the rest of the answer.
/// </summary>
internal sealed class AskTimings
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(string Stage, TimeSpan End)> _marks = [];

    public void Mark(string stage) => _marks.Add((stage, _clock.Elapsed));

    public bool Has(string stage) => _marks.Any(m => m.Stage == stage);

    public string Summary(UsageDetails? usage)
    {
        var parts = new List<string>();
        var start = TimeSpan.Zero;
        foreach (var (stage, end) in _marks)
        {
            var ms = (end - start).TotalMilliseconds;
            var detail = stage switch
            {
                "prefill" when usage?.InputTokenCount is { } input => $" ({input:N0} prompt tokens)",
                "decode" when usage?.OutputTokenCount is { } output and > 1 => $" ({output:N0} tokens, {ms / (output - 1):F1} ms/token)",
                _ => "",
            };
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{stage} {ms:F0} ms{detail}"));
            start = end;
        }
        return $"timings: {string.Join(", ", parts)}; total {_clock.Elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)} s";
    }
}
