using System.Text;
using AngleSharp.Dom;

namespace Rag.Ingest.Loading;

/// <summary>
/// Writes the text of a DOM tree the way a browser lays it out, without CSS: block elements start new
/// paragraphs, list items and &lt;br&gt; new lines, runs of whitespace collapse to one space (except in &lt;pre&gt;).
/// The paragraph breaks matter because the chunker prefers to cut there.
/// </summary>
internal sealed class HtmlTextWriter
{
    private const int NoBreak = 0, LineBreak = 1, ParagraphBreak = 2;

    private static readonly HashSet<string> ParagraphElements =
    [
        "p", "div", "section", "article", "header", "footer", "main", "nav", "aside", "blockquote", "pre", "table",
        "ul", "ol", "dl", "figure", "form", "address", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
    ];

    private static readonly HashSet<string> LineElements = ["br", "li", "tr", "dt", "dd", "caption", "figcaption"];

    private static readonly HashSet<string> CellElements = ["td", "th"];

    private readonly StringBuilder _text = new();
    private int _pendingBreak;
    private bool _pendingSpace;

    public void Write(INode node, bool preformatted = false)
    {
        switch (node)
        {
            case IText text:
                WriteText(text.Data, preformatted);
                break;
            case IElement element:
                WriteElement(element, preformatted);
                break;
            case IDocument or IDocumentFragment:
                foreach (INode child in node.ChildNodes)
                    Write(child, preformatted);
                break;
        }
    }

    public override string ToString() => _text.ToString();

    private void WriteElement(IElement element, bool preformatted)
    {
        string name = element.LocalName;
        int around = ParagraphElements.Contains(name) ? ParagraphBreak : LineElements.Contains(name) ? LineBreak : NoBreak;
        if (CellElements.Contains(name))
            _pendingSpace = true;
        RequestBreak(around);
        foreach (INode child in element.ChildNodes)
            Write(child, preformatted || name == "pre");
        RequestBreak(around);
    }

    private void WriteText(string data, bool preformatted)
    {
        if (preformatted)
        {
            Flush();
            _text.Append(data);
            return;
        }

        foreach (char c in data)
        {
            if (char.IsWhiteSpace(c))
            {
                _pendingSpace = true;
                continue;
            }

            Flush();
            _text.Append(c);
        }
    }

    private void RequestBreak(int strength) => _pendingBreak = Math.Max(_pendingBreak, strength);

    /// <summary>Emits the separator owed before the next visible character; none at the very start.</summary>
    private void Flush()
    {
        if (_text.Length > 0)
        {
            if (_pendingBreak > NoBreak)
                _text.Append('\n', _pendingBreak);
            else if (_pendingSpace)
                _text.Append(' ');
        }

        _pendingBreak = NoBreak;
        _pendingSpace = false;
    }
}
