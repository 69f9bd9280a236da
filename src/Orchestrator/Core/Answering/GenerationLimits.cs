namespace Rag.Orchestrator.Answering;

/// <summary>
/// The per-request generation settings every front end accepts (CLI flags, API fields), checked before retrieval
/// or model load so that bad input costs nothing. <paramref name="field"/> names the input as the caller spells it.
/// </summary>
public static class GenerationLimits
{
    public const float MaxTemperature = 2;

    public static void CheckMaxTokens(int? value, int limit, string field)
    {
        if (value is { } max && (max < 1 || max > limit))
            throw new RagInputException($"{field} must be between 1 and {limit} (Generator:MaxTokens); got {max}.") { Field = field };
    }

    public static void CheckTemperature(float? value, string field)
    {
        if (value is { } t && !(t >= 0 && t <= MaxTemperature))
            throw new RagInputException($"{field} must be between 0 and {MaxTemperature}; got {t}.") { Field = field };
    }

    public static void CheckTopP(float? value, string field)
    {
        if (value is { } p && !(p > 0 && p <= 1))
            throw new RagInputException($"{field} must be in (0, 1]; got {p}.") { Field = field };
    }
}
