using Microsoft.Extensions.AI;

namespace Rag.Retrieval.Embeddings;

/// <summary>
/// Asymmetric encoders (E5, BGE) embed queries and passages with different prefixes. The choice travels in
/// <see cref="EmbeddingGenerationOptions.AdditionalProperties"/> under <see cref="PropertyName"/>; absent means passage.
/// </summary>
public static class EmbeddingInputType
{
    public const string PropertyName = "input_type";
    public const string Query = "query";
    public const string Passage = "passage";

    /// <summary>Fresh options that mark the inputs as search queries.</summary>
    public static EmbeddingGenerationOptions ForQuery() => new() { AdditionalProperties = new() { [PropertyName] = Query } };

    /// <summary>Fresh options that mark the inputs as passages to be indexed.</summary>
    public static EmbeddingGenerationOptions ForPassage() => new() { AdditionalProperties = new() { [PropertyName] = Passage } };

    internal static bool IsQuery(EmbeddingGenerationOptions? options)
    {
        if (options?.AdditionalProperties is not { } properties || !properties.TryGetValue(PropertyName, out var value))
            return false;
        return value?.ToString() switch
        {
            Query => true,
            Passage => false,
            var other => throw new ArgumentException($"Embedding option '{PropertyName}' is '{other}'; expected '{Query}' or '{Passage}'", nameof(options)),
        };
    }
}
