using System.Text.Json;

namespace Rag.Orchestrator.Evaluation;

public sealed record SquadParagraph(string Id, string Title, string Context);

public sealed record SquadQuestion(string Id, string Question, string ParagraphId);

/// <summary>A SQuAD-format file (data → articles → paragraphs → qas) flattened for retrieval evaluation.</summary>
public sealed record SquadDataset(IReadOnlyList<SquadParagraph> Paragraphs, IReadOnlyList<SquadQuestion> Questions)
{
    public static SquadDataset Load(string path)
    {
        using var stream = File.OpenRead(path);
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Dataset '{path}' is not valid JSON: {e.Message}");
        }
        using (json)
        {
            if (!json.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"Dataset '{path}' has no 'data' array: not a SQuAD-format file.");
            var paragraphs = new List<SquadParagraph>();
            var questions = new List<SquadQuestion>();
            int articleIndex = 0;
            foreach (var article in data.EnumerateArray())
            {
                string title = article.TryGetProperty("title", out var t) ? t.GetString() ?? $"article {articleIndex}" : $"article {articleIndex}";
                int paragraphIndex = 0;
                foreach (var paragraph in Required(article, "paragraphs", path).EnumerateArray())
                {
                    var id = $"{articleIndex}/{paragraphIndex++}";
                    paragraphs.Add(new SquadParagraph(id, title, Required(paragraph, "context", path).GetString() ?? ""));
                    foreach (var qa in Required(paragraph, "qas", path).EnumerateArray())
                        questions.Add(new SquadQuestion(Required(qa, "id", path).ToString(), Required(qa, "question", path).GetString() ?? "", id));
                }
                articleIndex++;
            }
            return new SquadDataset(paragraphs, questions);
        }
    }

    private static JsonElement Required(JsonElement element, string name, string path) =>
        element.TryGetProperty(name, out var value)
            ? value
            : throw new InvalidDataException($"Dataset '{path}': an entry lacks '{name}' (SQuAD format: data[].paragraphs[].context/qas[].question).");
}
