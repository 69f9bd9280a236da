using System.Text;

namespace Rag.Ingest.Loading;

/// <summary>
/// Decodes text files without guessing: a byte order mark selects UTF-8/16/32, otherwise the bytes must be
/// valid UTF-8. Invalid sequences and NUL characters are errors rather than silently replaced, because they mean
/// the file is binary or in a legacy encoding and its text would be garbage in the index.
/// </summary>
internal static class StrictTextDecoder
{
    public static string Decode(byte[] bytes)
    {
        var (encoding, bomLength) = DetectEncoding(bytes);
        string text;
        try
        {
            text = encoding.GetString(bytes, bomLength, bytes.Length - bomLength);
        }
        catch (DecoderFallbackException e)
        {
            string where = e.Index >= 0 ? $" at byte {bomLength + e.Index}" : "";
            throw new InvalidDocumentException($"invalid {encoding.WebName} byte sequence{where}; only UTF-8 (or UTF-16/32 with a byte order mark) is accepted", e);
        }

        int nul = text.IndexOf('\0');
        if (nul >= 0)
            throw new InvalidDocumentException($"NUL character at text offset {nul}: a binary file, or UTF-16 without a byte order mark");
        return text;
    }

    private static (Encoding Encoding, int BomLength) DetectEncoding(ReadOnlySpan<byte> b) => b switch
    {
        [0xEF, 0xBB, 0xBF, ..] => (new UTF8Encoding(false, throwOnInvalidBytes: true), 3),
        [0xFF, 0xFE, 0x00, 0x00, ..] => (new UTF32Encoding(bigEndian: false, false, throwOnInvalidCharacters: true), 4),
        [0x00, 0x00, 0xFE, 0xFF, ..] => (new UTF32Encoding(bigEndian: true, false, throwOnInvalidCharacters: true), 4),
        [0xFF, 0xFE, ..] => (new UnicodeEncoding(bigEndian: false, false, throwOnInvalidBytes: true), 2),
        [0xFE, 0xFF, ..] => (new UnicodeEncoding(bigEndian: true, false, throwOnInvalidBytes: true), 2),
        _ => (new UTF8Encoding(false, throwOnInvalidBytes: true), 0),
    };
}
