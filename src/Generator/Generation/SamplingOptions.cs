namespace Rag.Generator.Generation;

/// <summary>
/// How the next token is picked from the logits. Order of application: presence/frequency penalties,
/// temperature, top-k, top-p, then a draw. Temperature 0 means greedy (argmax after penalties; top-k/top-p unused).
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Divides the logits; 0 = greedy, 1 = the model's distribution.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Nucleus sampling: keep the most likely tokens whose probabilities sum to at least this; 1 = off.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Keep only the K most likely tokens; 0 = off.</summary>
    public int TopK { get; init; }

    /// <summary>Subtracted once from the logit of every token already generated (OpenAI's definition).</summary>
    public double PresencePenalty { get; init; }

    /// <summary>Subtracted from a token's logit once per time it was already generated (OpenAI's definition).</summary>
    public double FrequencyPenalty { get; init; }

    /// <summary>
    /// After each generated token every earlier token's count is multiplied by this (RWKV's chat servers use 0.996),
    /// so a word used long ago is penalised less than one just used; 1 = plain counts.
    /// </summary>
    public double PenaltyDecay { get; init; } = 1.0;

    /// <summary>Most tokens to generate; reaching it ends with <see cref="FinishReason.Length"/>.</summary>
    public int MaxTokens { get; init; } = 512;

    /// <summary>Generation ends before the first occurrence of any of these; the stop text itself is never returned.</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];

    /// <summary>Seed of the sampling random generator; null draws a random seed.</summary>
    public long? Seed { get; init; }

    public bool IsGreedy => Temperature == 0;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option that breaks its rule.</summary>
    public void Validate()
    {
        Require(double.IsFinite(Temperature) && Temperature >= 0, nameof(Temperature), Temperature, "must be a finite number >= 0 (0 = greedy)");
        Require(TopP > 0 && TopP <= 1, nameof(TopP), TopP, "must be in (0, 1]");
        Require(TopK >= 0, nameof(TopK), TopK, "must be >= 0 (0 = off)");
        Require(PresencePenalty is >= -2 and <= 2, nameof(PresencePenalty), PresencePenalty, "must be in [-2, 2]");
        Require(FrequencyPenalty is >= -2 and <= 2, nameof(FrequencyPenalty), FrequencyPenalty, "must be in [-2, 2]");
        Require(PenaltyDecay > 0 && PenaltyDecay <= 1, nameof(PenaltyDecay), PenaltyDecay, "must be in (0, 1]");
        Require(MaxTokens >= 1, nameof(MaxTokens), MaxTokens, "must be >= 1");
        ArgumentNullException.ThrowIfNull(StopSequences, nameof(StopSequences));
        foreach (var stop in StopSequences)
            Require(!string.IsNullOrEmpty(stop), nameof(StopSequences), stop, "must not contain null or empty strings");
    }

    private static void Require(bool rule, string option, object? value, string message)
    {
        if (!rule) throw new ArgumentOutOfRangeException(option, value, $"Sampling option {option} {message}.");
    }
}
