namespace Rag.Generator.Generation;

/// <summary>
/// Passes generated text through until a stop sequence appears, which may be split over several pieces.
/// Text that could be the beginning of a stop sequence is held back until it is known not to be one,
/// so no text at or after a stop sequence is ever released.
/// </summary>
public sealed class StopSequenceFilter
{
    private readonly string[] _stops;
    private string _held = "";

    public StopSequenceFilter(IEnumerable<string> stopSequences)
    {
        ArgumentNullException.ThrowIfNull(stopSequences);
        _stops = stopSequences.ToArray();
        if (_stops.Any(string.IsNullOrEmpty)) throw new ArgumentException("Stop sequences must not be null or empty.", nameof(stopSequences));
    }

    /// <summary>True once a stop sequence was seen; later text is dropped.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a piece of text; returns the text that is safe to release now.</summary>
    public string Push(string piece)
    {
        if (Stopped) return "";
        var text = _held + piece;
        var stopAt = _stops.Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (stopAt >= 0)
        {
            Stopped = true;
            _held = "";
            return text[..stopAt];
        }
        var holdFrom = text.Length - LongestSuffixStartingAStop(text);
        _held = text[holdFrom..];
        return text[..holdFrom];
    }

    /// <summary>Ends the text: what was held back is released (it can no longer become a stop sequence).</summary>
    public string Flush()
    {
        var rest = Stopped ? "" : _held;
        _held = "";
        return rest;
    }

    private int LongestSuffixStartingAStop(string text)
    {
        var longest = 0;
        foreach (var stop in _stops)
        {
            for (var length = Math.Min(stop.Length - 1, text.Length); length > longest; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
            }
        }
        return longest;
    }
}
