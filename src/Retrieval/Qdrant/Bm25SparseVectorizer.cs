using System.Text;

namespace Rag.Retrieval.Qdrant;

/// <summary>
/// Client-side half of BM25 over Qdrant sparse vectors. A chunk becomes {hash(term): saturated tf}, with
/// tf·(k1+1) / (tf + k1·(1 − b + b·|d|/avgdl)); a query becomes {hash(term): 1}. The collection's sparse vector
/// has <c>modifier: idf</c>, so Qdrant multiplies each query term by its corpus IDF at search time and the dot
/// product is the BM25 score. Terms are lower-cased, accent-free runs of letters and digits; the index of a term is its
/// 32-bit FNV-1a hash over UTF-8 (stable across processes, unlike string.GetHashCode). Collisions merge two terms,
/// which at 2³² buckets only matters for enormous vocabularies.
/// </summary>
internal sealed class Bm25SparseVectorizer(double k1, double b, double averageLength)
{
    public SparseVector ForDocument(string text)
    {
        var counts = CountTerms(text, out var length);
        var norm = k1 * (1 - b + b * length / averageLength);
        return Build(counts.ToDictionary(p => p.Key, p => (float)(p.Value * (k1 + 1) / (p.Value + norm))));
    }

    public SparseVector ForQuery(string text) =>
        Build(CountTerms(text, out _).ToDictionary(p => p.Key, _ => 1f));

    /// <summary>Lower-cased runs of letters and digits with accents removed ("Crème" → "creme").</summary>
    internal static IEnumerable<string> Terms(string text)
    {
        var term = new StringBuilder();
        // Decomposition splits accented letters into base letter + combining mark; marks are dropped, not separators.
        foreach (var rune in text.Normalize(NormalizationForm.FormD).EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(rune) == System.Globalization.UnicodeCategory.NonSpacingMark) continue;
            if (Rune.IsLetterOrDigit(rune))
            {
                term.Append(Rune.ToLowerInvariant(rune).ToString());
                continue;
            }
            if (term.Length > 0) yield return term.ToString();
            term.Clear();
        }
        if (term.Length > 0) yield return term.ToString();
    }

    internal static uint Index(string term)
    {
        const uint offsetBasis = 2166136261, prime = 16777619;
        var hash = offsetBasis;
        foreach (var b in Encoding.UTF8.GetBytes(term)) hash = (hash ^ b) * prime;
        return hash;
    }

    private static Dictionary<uint, int> CountTerms(string text, out int length)
    {
        var counts = new Dictionary<uint, int>();
        length = 0;
        foreach (var term in Terms(text))
        {
            var index = Index(term);
            counts[index] = counts.GetValueOrDefault(index) + 1;
            length++;
        }
        return counts;
    }

    // Qdrant wants unique indices; sorted ones make requests reproducible.
    private static SparseVector Build(Dictionary<uint, float> weights)
    {
        var indices = weights.Keys.Order().ToArray();
        return new SparseVector(indices, indices.Select(i => weights[i]).ToArray());
    }
}
