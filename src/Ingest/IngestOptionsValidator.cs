using Microsoft.Extensions.Options;

namespace Rag.Ingest;

/// <summary>Rejects an unusable "Ingest" section at startup, naming the key, its value and the rule.</summary>
public sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        const string s = IngestOptions.SectionName;
        var errors = new List<string>();
        if (options.MaxFileBytes <= 0)
            errors.Add($"{s}:MaxFileBytes ({options.MaxFileBytes}) must be positive.");
        if (options.ChunkTokens <= 0)
            errors.Add($"{s}:ChunkTokens ({options.ChunkTokens}) must be positive.");
        if (options.ChunkOverlapTokens < 0 || options.ChunkOverlapTokens >= options.ChunkTokens)
            errors.Add($"{s}:ChunkOverlapTokens ({options.ChunkOverlapTokens}) must be at least 0 and less than {s}:ChunkTokens ({options.ChunkTokens}).");
        if (string.IsNullOrWhiteSpace(options.Encoding))
            errors.Add($"{s}:Encoding must name a tiktoken encoding such as o200k_base.");
        if (options.MaxDecompressedBytes <= 0)
            errors.Add($"{s}:MaxDecompressedBytes ({options.MaxDecompressedBytes}) must be positive.");
        if (!(options.MaxCompressionRatio >= 1))
            errors.Add($"{s}:MaxCompressionRatio ({options.MaxCompressionRatio}) must be at least 1.");
        if (options.EmbeddingBatchSize <= 0)
            errors.Add($"{s}:EmbeddingBatchSize ({options.EmbeddingBatchSize}) must be positive.");
        for (int i = 0; i < options.Roots.Count; i++)
        {
            // A missing root would silently refuse every file, so a typo fails at startup instead.
            if (string.IsNullOrWhiteSpace(options.Roots[i]))
                errors.Add($"{s}:Roots:{i} is empty; name a folder ingestion may read.");
            else if (!Directory.Exists(options.Roots[i]))
                errors.Add($"{s}:Roots:{i} ('{options.Roots[i]}') must be an existing folder.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
