namespace Rag.Generator.Chat;

/// <summary>
/// Splits a G1 model's streamed output into reasoning (the <c>&lt;think&gt;…&lt;/think&gt;</c> block) and answer,
/// holding back only text that may still turn out to be part of a tag. A block the model writes unasked (thinking
/// off) is separated the same way, so reasoning never lands in the answer.
/// </summary>
public sealed class ThinkingSplitter
{
    private const string Open = "<think>";
    private const string Close = "</think>";

    private enum Part { Start, OpenTag, Reasoning, AnswerStart, Answer }

    private Part _part;
    private string _pending = "";

    /// <param name="promptOpenedBlock">The prompt ended with "&lt;think": the output starts by completing the tag.</param>
    public ThinkingSplitter(bool promptOpenedBlock) => _part = promptOpenedBlock ? Part.OpenTag : Part.Start;

    /// <summary>Pieces of reasoning and answer that are certain so far, in order.</summary>
    public IEnumerable<(string Text, bool IsReasoning)> Push(string text)
    {
        _pending += text;
        var output = new List<(string, bool)>();
        while (Step(output)) { }
        return output;
    }

    /// <summary>Everything held back, at the end of the output (an unclosed block stays reasoning).</summary>
    public IEnumerable<(string Text, bool IsReasoning)> Flush()
    {
        var rest = _pending;
        _pending = "";
        bool reasoning = _part is Part.OpenTag or Part.Reasoning;
        if (_part is Part.Start or Part.AnswerStart) rest = rest.TrimStart();
        return rest.Length == 0 ? [] : [(rest, reasoning)];
    }

    /// <summary>Consumes what can be decided; false when more text is needed.</summary>
    private bool Step(List<(string, bool)> output)
    {
        switch (_part)
        {
            case Part.Start:
                var start = _pending.TrimStart();
                if (start.Length == 0 || (start.Length < Open.Length && Open.StartsWith(start, StringComparison.Ordinal))) return false;
                if (start.StartsWith(Open, StringComparison.Ordinal))
                {
                    (_pending, _part) = (start[Open.Length..], Part.Reasoning);
                    return true;
                }
                (_pending, _part) = (start, Part.Answer);
                return true;
            case Part.OpenTag:
                if (_pending.Length == 0) return false;
                if (_pending[0] == '>') _pending = _pending[1..];
                _part = Part.Reasoning;
                return true;
            case Part.Reasoning:
                int close = _pending.IndexOf(Close, StringComparison.Ordinal);
                if (close >= 0)
                {
                    Emit(output, _pending[..close], reasoning: true);
                    (_pending, _part) = (_pending[(close + Close.Length)..], Part.AnswerStart);
                    return true;
                }
                int keep = HeldBack(_pending);
                Emit(output, _pending[..^keep], reasoning: true);
                _pending = _pending[^keep..];
                return false;
            case Part.AnswerStart:
                _pending = _pending.TrimStart();
                if (_pending.Length == 0) return false;
                _part = Part.Answer;
                return true;
            default:
                Emit(output, _pending, reasoning: false);
                _pending = "";
                return false;
        }
    }

    /// <summary>Length of the longest end of <paramref name="text"/> that could begin the closing tag.</summary>
    private static int HeldBack(string text)
    {
        for (int n = Math.Min(Close.Length - 1, text.Length); n > 0; n--)
            if (Close.StartsWith(text[^n..], StringComparison.Ordinal)) return n;
        return 0;
    }

    private static void Emit(List<(string, bool)> output, string text, bool reasoning)
    {
        if (text.Length > 0) output.Add((text, reasoning));
    }
}
