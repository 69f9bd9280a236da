namespace Rag.Orchestrator.Answering;

/// <summary>
/// Limits on request values, written once for every front end (CLI, HTTP API, Semantic Kernel): the same bad input
/// gets the same <see cref="RagInputException"/> message, naming the input and the limit, wherever it comes from.
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

    /// <summary>Tokens to generate: at most Generator:MaxTokens, which is also the default.</summary>
    /// <param name="name">The input as the front end spells it (max_tokens, --max-tokens).</param>
    public static int? MaxTokens(int? requested, string name, int limit)
    {
        if (requested is { } max && (max < 1 || max > limit))
            throw new RagInputException($"{name} must be between 1 and {limit} (Generator:MaxTokens); got {max}.");
        return requested;
    }

    /// <summary>Sampling temperature: 0 (greedy) to 2.</summary>
    public static float? Temperature(float? temperature)
    {
        if (temperature is { } t && !(t >= 0 && t <= 2)) throw new RagInputException($"temperature must be between 0 and 2; got {t}.");
        return temperature;
    }

    /// <summary>Nucleus sampling mass: in (0, 1].</summary>
    public static float? TopP(float? topP)
    {
        if (topP is { } p && !(p > 0 && p <= 1)) throw new RagInputException($"top_p must be in (0, 1]; got {p}.");
        return topP;
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
