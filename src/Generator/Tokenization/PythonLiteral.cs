using System.Globalization;
using System.Text;

namespace Rag.Generator.Tokenization;

/// <summary>
/// Parses the Python string literals of the RWKV vocabulary file: <c>'…'</c> / <c>"…"</c> (str, stored as its
/// UTF-8 bytes) and <c>b'…'</c> (bytes), with the escapes Python's repr() writes.
/// </summary>
internal static class PythonLiteral
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Returns the bytes of <paramref name="literal"/>; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static byte[] ToBytes(string literal)
    {
        var isBytes = literal.Length > 0 && (literal[0] == 'b' || literal[0] == 'B');
        var body = isBytes ? literal[1..] : literal;
        if (body.Length < 2 || (body[0] != '\'' && body[0] != '"') || body[^1] != body[0])
            throw new FormatException($"not a quoted Python literal: {literal}");
        var quote = body[0];
        body = body[1..^1];

        var bytes = new List<byte>(body.Length);
        var text = new StringBuilder(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (c == quote) throw new FormatException($"unescaped quote inside literal {literal}");
            if (c != '\\')
            {
                if (isBytes && c > 0x7f) throw new FormatException($"non-ASCII character in bytes literal {literal}");
                Append(c);
                continue;
            }
            if (++i == body.Length) throw new FormatException($"literal ends with a lone backslash: {literal}");
            switch (body[i])
            {
                case '\\': Append('\\'); break;
                case '\'': Append('\''); break;
                case '"': Append('"'); break;
                case 'n': Append('\n'); break;
                case 't': Append('\t'); break;
                case 'r': Append('\r'); break;
                case '0': Append('\0'); break;
                case 'a': Append('\a'); break;
                case 'b': Append('\b'); break;
                case 'f': Append('\f'); break;
                case 'v': Append('\v'); break;
                case 'x': AppendCodePoint(Hex(body, ref i, 2, literal)); break;
                case 'u' when !isBytes: AppendCodePoint(Hex(body, ref i, 4, literal)); break;
                case 'U' when !isBytes: AppendCodePoint(Hex(body, ref i, 8, literal)); break;
                default: throw new FormatException($"unsupported escape \\{body[i]} in literal {literal}");
            }
        }
        if (isBytes) return [.. bytes];
        try
        {
            return StrictUtf8.GetBytes(text.ToString());
        }
        catch (EncoderFallbackException)
        {
            throw new FormatException($"str literal is not valid Unicode (lone surrogate): {literal}");
        }

        void Append(char ch)
        {
            if (isBytes) bytes.Add((byte)ch);
            else text.Append(ch);
        }

        void AppendCodePoint(int codePoint)
        {
            // In a bytes literal \xNN is one byte; in a str literal it is the code point U+00NN.
            if (isBytes) bytes.Add((byte)codePoint);
            else if (codePoint is >= 0xD800 and <= 0xDFFF) text.Append((char)codePoint);
            else text.Append(char.ConvertFromUtf32(codePoint));
        }
    }

    private static int Hex(string body, ref int i, int digits, string literal)
    {
        if (i + digits >= body.Length) throw new FormatException($"truncated \\{body[i]} escape in literal {literal}");
        var hex = body.Substring(i + 1, digits);
        if (!uint.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value) || value > 0x10FFFF)
            throw new FormatException($"bad \\{body[i]} escape '{hex}' in literal {literal}");
        i += digits;
        return (int)value;
    }
}
