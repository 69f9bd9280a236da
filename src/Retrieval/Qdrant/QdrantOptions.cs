namespace Rag.Retrieval.Qdrant;

/// <summary>Options of the Qdrant document store, configuration section <c>Qdrant</c>.</summary>
public sealed class QdrantOptions
{
    public const string SectionName = "Qdrant";

    /// <summary>Base URL of the REST API (port 6333 by default).</summary>
    public string Url { get; set; } = "http://localhost:6333";

    /// <summary>Sent as the <c>api-key</c> header when set.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Collection holding the chunks and document records of one index.</summary>
    public string Collection { get; set; } = "rag";

    /// <summary>
    /// Dimensions of the dense vector (the embedding model's output size); 0 takes them from the first document
    /// written with embeddings. An existing collection must agree.
    /// </summary>
    public int VectorSize { get; set; }

    /// <summary>Dense similarity: Cosine, Dot, Euclid or Manhattan.</summary>
    public string Distance { get; set; } = "Cosine";

    /// <summary>Points per upsert request.</summary>
    public int UpsertBatchSize { get; set; } = 64;

    /// <summary>Hybrid search fetches K × this many candidates from each of dense and BM25 before fusing.</summary>
    public int PrefetchMultiplier { get; set; } = 4;

    /// <summary>Time allowed for one HTTP attempt before it is cancelled and retried.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public int MaxRetryAttempts { get; set; } = 4;

    /// <summary>First retry delay; later ones grow exponentially, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Share of failed attempts within <see cref="CircuitSamplingDuration"/> that opens the circuit.</summary>
    public double CircuitFailureRatio { get; set; } = 0.5;

    /// <summary>Attempts needed in a sampling window before the circuit may open (at least 2).</summary>
    public int CircuitMinimumThroughput { get; set; } = 10;

    public TimeSpan CircuitSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit fails fast before letting a trial request through.</summary>
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>BM25 term-frequency saturation.</summary>
    public double Bm25K1 { get; set; } = 1.2;

    /// <summary>BM25 length normalisation.</summary>
    public double Bm25B { get; set; } = 0.75;

    /// <summary>Assumed average chunk length in terms; Qdrant cannot supply it, so it is fixed client-side.</summary>
    public double Bm25AverageLength { get; set; } = 256;

    internal void Validate()
    {
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"{SectionName}:Url '{Url}' is not an absolute http(s) URL");
        if (string.IsNullOrWhiteSpace(Collection))
            throw new ArgumentException($"{SectionName}:Collection is empty");
        if (VectorSize < 0)
            throw new ArgumentException($"{SectionName}:VectorSize is {VectorSize}; use the embedding model's dimensions, or 0 to take them from the first document");
        if (Distance is not ("Cosine" or "Dot" or "Euclid" or "Manhattan"))
            throw new ArgumentException($"{SectionName}:Distance '{Distance}' is not one of Cosine, Dot, Euclid, Manhattan");
        if (UpsertBatchSize < 1)
            throw new ArgumentException($"{SectionName}:UpsertBatchSize is {UpsertBatchSize}; must be at least 1");
        if (PrefetchMultiplier < 1)
            throw new ArgumentException($"{SectionName}:PrefetchMultiplier is {PrefetchMultiplier}; must be at least 1");
        // The resilience rules are Polly's; checked here so that a bad value is named at startup, not on first use.
        if (CircuitMinimumThroughput < 2)
            throw new ArgumentException($"{SectionName}:CircuitMinimumThroughput is {CircuitMinimumThroughput}; must be at least 2");
        if (!(CircuitFailureRatio > 0 && CircuitFailureRatio <= 1))
            throw new ArgumentException($"{SectionName}:CircuitFailureRatio is {CircuitFailureRatio}; must be above 0 and at most 1");
        if (MaxRetryAttempts < 1)
            throw new ArgumentException($"{SectionName}:MaxRetryAttempts is {MaxRetryAttempts}; must be at least 1");
        if (RetryBaseDelay < TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:RetryBaseDelay is {RetryBaseDelay}; must not be negative");
        if (AttemptTimeout < TimeSpan.FromMilliseconds(10) || AttemptTimeout > TimeSpan.FromDays(1))
            throw new ArgumentException($"{SectionName}:AttemptTimeout is {AttemptTimeout}; must be between 10 ms and 24 h");
        foreach (var (key, value) in new[] { (nameof(CircuitSamplingDuration), CircuitSamplingDuration), (nameof(CircuitBreakDuration), CircuitBreakDuration) })
            if (value < TimeSpan.FromMilliseconds(500) || value > TimeSpan.FromDays(1))
                throw new ArgumentException($"{SectionName}:{key} is {value}; must be between 0.5 s and 24 h");
    }
}
