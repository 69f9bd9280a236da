using System.Text;

namespace Rag.Ingest.Tests.Chunking;

/// <summary>Deterministic pseudo-prose: sentences of 4-20 words, paragraphs of 1-6 sentences.</summary>
public static class SampleText
{
    private static readonly string[] Words =
    [
        "retrieval", "the", "model", "reads", "a", "passage", "and", "answers", "with", "sources", "state", "token",
        "vector", "index", "query", "document", "chunk", "of", "in", "is", "quickly", "embedding", "score", "rank",
        "Paris", "über", "naïve", "2024", "e-mail", "co-operate", "data", "store", "recall", "precision",
    ];

    public static string Prose(int paragraphs, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        for (int p = 0; p < paragraphs; p++)
        {
            if (p > 0)
                text.Append("\n\n");
            int sentences = random.Next(1, 7);
            for (int s = 0; s < sentences; s++)
            {
                if (s > 0)
                    text.Append(' ');
                int words = random.Next(4, 21);
                for (int w = 0; w < words; w++)
                {
                    string word = Words[random.Next(Words.Length)];
                    text.Append(w == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : " " + word);
                }

                text.Append(random.Next(4) == 0 ? '?' : '.');
            }
        }

        return text.ToString();
    }
}
