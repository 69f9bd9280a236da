namespace Rag.Generator.Generation;

/// <summary>
/// One sequence's sampling: its settings and its own seeded source of uniform numbers, one per sampled (not
/// greedy) token. The tensor work is done for a whole batch at once by <see cref="BatchDraw"/>; keeping the
/// uniforms per sequence means a seeded request draws the same numbers whatever batch it runs in.
/// </summary>
public sealed class Sampler
{
    private readonly Random _uniform;

    public Sampler(SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _uniform = options.Seed is { } seed ? new Random(unchecked((int)seed ^ (int)(seed >> 32))) : new Random();
    }

    public SamplingOptions Options { get; }

    /// <summary>The uniform number in [0, 1) of the next sampled token.</summary>
    internal double NextUniform() => _uniform.NextDouble();
}
