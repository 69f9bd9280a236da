namespace Rag.Ingest.Loading;

public sealed class PlainTextLoader : IDocumentLoader
{
    public IReadOnlyList<string> Extensions { get; } = [".txt"];

    public ExtractedText Extract(byte[] content) => new(StrictTextDecoder.Decode(content), Title: null);
}
