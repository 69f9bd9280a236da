namespace Rag.Orchestrator.Answering;

/// <summary>
/// Limits on request values, written once for every front end (CLI, HTTP API, Semantic Kernel): the same bad input
/// gets the same <see cref="RagInputException"/> message, naming the input and the limit, wherever it comes from.
/// Generation settings (max tokens, temperature, top_p) are <see cref="GenerationLimits"/>.
/// </summary>
public static class RequestRules
{
    public const int MaxPageSize = 500;

    /// <summary>A question or search query: not empty, at most Ask:MaxQuestionChars characters.</summary>
    /// <param name="name">What the caller calls it ("question", "query").</param>
    public static string Text(string? text, string name, AskOptions limits)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new RagInputException($"The {name} is empty.");
        if (text.Length > limits.MaxQuestionChars)
            throw new RagInputException($"The {name} has {text.Length} characters; the limit is {limits.MaxQuestionChars} (Ask:MaxQuestionChars).");
        return text;
    }

    /// <summary>Passages to retrieve: Ask:DefaultK when not given, else 1 to Ask:MaxK.</summary>
    public static int K(int? k, AskOptions limits)
    {
        int value = k ?? limits.DefaultK;
        if (value < 1 || value > limits.MaxK)
            throw new RagInputException($"k must be between 1 and {limits.MaxK} (Ask:MaxK); got {value}.");
        return value;
    }

    /// <summary>New passages a follow-up may append: Ask:FollowUpPassages when not given, else 0 to Ask:MaxK.</summary>
    public static int FollowUpPassages(int? count, AskOptions limits)
    {
        int value = count ?? limits.FollowUpPassages;
        if (value < 0 || value > limits.MaxK)
            throw new RagInputException($"follow_up_passages must be between 0 and {limits.MaxK} (Ask:MaxK); got {value}.") { Field = "follow_up_passages" };
        return value;
    }

    /// <summary>Tags to filter or label by: each not empty.</summary>
    public static IReadOnlyList<string> Tags(IReadOnlyList<string>? tags)
    {
        if (tags is null) return [];
        if (tags.Any(string.IsNullOrWhiteSpace)) throw new RagInputException("Tags must not be empty; omit tags instead of passing an empty one.");
        return tags;
    }

    /// <summary>A page of a listing: skip >= 0 (default 0), take 1 to <see cref="MaxPageSize"/> (default 50).</summary>
    public static (int Skip, int Take) Page(int? skip, int? take)
    {
        if (skip < 0) throw new RagInputException($"skip must be >= 0; got {skip}.");
        if (take is < 1 or > MaxPageSize) throw new RagInputException($"take must be between 1 and {MaxPageSize}; got {take}.");
        return (skip ?? 0, take ?? 50);
    }
}
