namespace Rag.Retrieval.Embeddings;

/// <summary>How token vectors become one sentence vector.</summary>
public enum EmbeddingPooling
{
    /// <summary>Average of the non-padding token vectors (sentence-transformers, E5, GTE).</summary>
    Mean,
    /// <summary>The [CLS] token vector (BGE and models trained that way).</summary>
    Cls,
}

/// <summary>Options of the local BERT sentence encoder, configuration section <c>Embeddings</c>.</summary>
public sealed class BertEmbeddingOptions
{
    public const string SectionName = "Embeddings";

    /// <summary>Folder holding a Hugging Face checkpoint: model.safetensors, config.json, vocab.txt (tokenizer_config.json optional).</summary>
    public string ModelDirectory { get; set; } = "";

    public EmbeddingPooling Pooling { get; set; } = EmbeddingPooling.Mean;

    /// <summary>L2-normalise the vectors, so that dot product equals cosine similarity.</summary>
    public bool Normalize { get; set; } = true;

    /// <summary>Prepended to queries; E5-style models expect "query: ".</summary>
    public string QueryPrefix { get; set; } = "";

    /// <summary>Prepended to passages (the default input type); E5-style models expect "passage: ".</summary>
    public string PassagePrefix { get; set; } = "";

    /// <summary>Tokens per input including [CLS] and [SEP]; longer inputs are truncated. Capped by the model's max_position_embeddings.</summary>
    public int MaxSequenceLength { get; set; } = 512;

    /// <summary>Inputs encoded per forward pass (inputs of similar length are batched together).</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>"cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Lower-case before tokenizing; null takes do_lower_case from tokenizer_config.json (true when absent).</summary>
    public bool? LowerCase { get; set; }
}
