namespace Rag.Ingest.Chunking;

/// <param name="StartOffset">Index of the chunk's first char in the document text.</param>
/// <param name="EndOffset">Index just past its last char: <c>Text == document[StartOffset..EndOffset]</c>.</param>
public sealed record TextChunk(int Ordinal, string Text, int TokenCount, int StartOffset, int EndOffset);
