using System.Text.Json;

namespace Rag.Retrieval.Embeddings;

/// <summary>The parts of a Hugging Face BERT <c>config.json</c> the encoder needs.</summary>
internal sealed record BertConfig(
    int VocabSize,
    int HiddenSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int IntermediateSize,
    int MaxPositionEmbeddings,
    int TypeVocabSize,
    double LayerNormEps)
{
    public int HeadSize => HiddenSize / NumAttentionHeads;

    /// <summary>Reads and validates <paramref name="path"/>; errors name the file and the key.</summary>
    public static BertConfig Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"BERT config '{path}' does not exist (expected a Hugging Face config.json next to model.safetensors)", path);

        JsonDocument json;
        try { json = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"BERT config '{path}' is not valid JSON: {e.Message}", e); }

        using (json)
        {
            var root = json.RootElement;
            // Only the exact GELU of the original BERT is implemented; tanh-approximated variants would drift from parity.
            var activation = OptionalString(root, "hidden_act") ?? "gelu";
            if (activation != "gelu")
                throw new NotSupportedException($"BERT config '{path}': hidden_act '{activation}' is not supported (only 'gelu', the erf form)");
            var positions = OptionalString(root, "position_embedding_type") ?? "absolute";
            if (positions != "absolute")
                throw new NotSupportedException($"BERT config '{path}': position_embedding_type '{positions}' is not supported (only 'absolute')");

            var config = new BertConfig(
                VocabSize: RequiredInt(root, "vocab_size"),
                HiddenSize: RequiredInt(root, "hidden_size"),
                NumHiddenLayers: RequiredInt(root, "num_hidden_layers"),
                NumAttentionHeads: RequiredInt(root, "num_attention_heads"),
                IntermediateSize: RequiredInt(root, "intermediate_size"),
                MaxPositionEmbeddings: RequiredInt(root, "max_position_embeddings"),
                TypeVocabSize: root.TryGetProperty("type_vocab_size", out var t) ? t.GetInt32() : 2,
                LayerNormEps: root.TryGetProperty("layer_norm_eps", out var eps) ? eps.GetDouble() : 1e-12);
            if (config.HiddenSize % config.NumAttentionHeads != 0)
                throw new InvalidDataException($"BERT config '{path}': hidden_size {config.HiddenSize} is not divisible by num_attention_heads {config.NumAttentionHeads}");
            return config;
        }

        int RequiredInt(JsonElement root, string key)
        {
            if (!root.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n))
                throw new InvalidDataException($"BERT config '{path}' lacks the integer '{key}'");
            if (n <= 0)
                throw new InvalidDataException($"BERT config '{path}': '{key}' is {n}, must be positive");
            return n;
        }
    }

    private static string? OptionalString(JsonElement root, string key) =>
        root.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
