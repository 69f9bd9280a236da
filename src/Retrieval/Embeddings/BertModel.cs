using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Rag.Retrieval.Embeddings;

/// <summary>
/// The BERT encoder (Devlin et al. 2018) as inference-only tensor code: embeddings, then N post-LayerNorm
/// transformer layers. Shapes: B = batch, T = tokens, C = hidden size, H = heads, D = head size (C = H·D).
/// </summary>
internal sealed class BertModel : IDisposable
{
    private readonly BertEmbeddings _embeddings;
    private readonly BertLayer[] _layers;

    public BertConfig Config { get; }

    public BertModel(BertConfig config, BertWeights weights)
    {
        Config = config;
        _embeddings = new BertEmbeddings(config, weights);
        _layers = Enumerable.Range(0, config.NumHiddenLayers)
            .Select(i => new BertLayer(config, weights, $"encoder.layer.{i}."))
            .ToArray();
    }

    /// <param name="inputIds">[B, T] int64 token ids.</param>
    /// <param name="attentionMask">[B, T] bool, true for real tokens, false for padding.</param>
    /// <returns>[B, T, C] last hidden state.</returns>
    public Tensor Forward(Tensor inputIds, Tensor attentionMask)
    {
        var x = _embeddings.Forward(inputIds);
        // Padding keys get -inf before the softmax, so no real token attends to them: [B, 1, 1, T].
        var ignoredKeys = attentionMask.logical_not().unsqueeze(1).unsqueeze(2);
        foreach (var layer in _layers)
            x = layer.Forward(x, ignoredKeys);
        return x;
    }

    public void Dispose()
    {
        _embeddings.Dispose();
        foreach (var layer in _layers) layer.Dispose();
    }
}

/// <summary>x = LayerNorm(word[ids] + position[0..T) + token_type[0]).</summary>
internal sealed class BertEmbeddings : IDisposable
{
    private readonly Tensor _word, _position, _tokenType;
    private readonly LayerNorm _norm;

    public BertEmbeddings(BertConfig c, BertWeights w)
    {
        _word = w.Take("embeddings.word_embeddings.weight", c.VocabSize, c.HiddenSize);
        _position = w.Take("embeddings.position_embeddings.weight", c.MaxPositionEmbeddings, c.HiddenSize);
        _tokenType = w.Take("embeddings.token_type_embeddings.weight", c.TypeVocabSize, c.HiddenSize);
        _norm = new LayerNorm(c, w, "embeddings.LayerNorm.");
    }

    public Tensor Forward(Tensor inputIds)
    {
        var t = inputIds.shape[1];
        var words = _word.index_select(0, inputIds.flatten())  // [B·T, C]
            .view(inputIds.shape[0], t, -1);                  // [B, T, C]
        var positions = _position.narrow(0, 0, t);           // [T, C]
        // Sentence embeddings encode a single segment, so every token has token type 0.
        var segment = _tokenType[0];                         // [C]
        return _norm.Forward(words + positions + segment);
    }

    public void Dispose()
    {
        _word.Dispose(); _position.Dispose(); _tokenType.Dispose(); _norm.Dispose();
    }
}

/// <summary>
/// One post-norm transformer layer:
/// x = LN(x + O·Attention(Q x, K x, V x));  x = LN(x + W2·GELU(W1 x)).
/// </summary>
internal sealed class BertLayer : IDisposable
{
    private readonly int _heads, _headSize;
    private readonly Linear _query, _key, _value, _attentionOut, _intermediate, _output;
    private readonly LayerNorm _attentionNorm, _outputNorm;

    public BertLayer(BertConfig c, BertWeights w, string p)
    {
        _heads = c.NumAttentionHeads;
        _headSize = c.HeadSize;
        _query = new Linear(w, p + "attention.self.query.", c.HiddenSize, c.HiddenSize);
        _key = new Linear(w, p + "attention.self.key.", c.HiddenSize, c.HiddenSize);
        _value = new Linear(w, p + "attention.self.value.", c.HiddenSize, c.HiddenSize);
        _attentionOut = new Linear(w, p + "attention.output.dense.", c.HiddenSize, c.HiddenSize);
        _attentionNorm = new LayerNorm(c, w, p + "attention.output.LayerNorm.");
        _intermediate = new Linear(w, p + "intermediate.dense.", c.HiddenSize, c.IntermediateSize);
        _output = new Linear(w, p + "output.dense.", c.IntermediateSize, c.HiddenSize);
        _outputNorm = new LayerNorm(c, w, p + "output.LayerNorm.");
    }

    /// <param name="x">[B, T, C]</param>
    /// <param name="ignoredKeys">[B, 1, 1, T], true where the key is padding.</param>
    public Tensor Forward(Tensor x, Tensor ignoredKeys)
    {
        x = _attentionNorm.Forward(x + _attentionOut.Forward(SelfAttention(x, ignoredKeys)));
        return _outputNorm.Forward(x + _output.Forward(F.gelu(_intermediate.Forward(x))));
    }

    private Tensor SelfAttention(Tensor x, Tensor ignoredKeys)
    {
        long b = x.shape[0], t = x.shape[1];
        var q = SplitHeads(_query.Forward(x));                                // [B, H, T, D]
        var k = SplitHeads(_key.Forward(x));
        var v = SplitHeads(_value.Forward(x));
        var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(_headSize);   // [B, H, T, T]
        var attention = scores.masked_fill(ignoredKeys, float.NegativeInfinity).softmax(-1);
        return attention.matmul(v)                                            // [B, H, T, D]
            .transpose(1, 2).reshape(b, t, _heads * _headSize);               // [B, T, C]

        Tensor SplitHeads(Tensor y) => y.view(b, t, _heads, _headSize).transpose(1, 2);
    }

    public void Dispose()
    {
        foreach (var d in new IDisposable[] { _query, _key, _value, _attentionOut, _attentionNorm, _intermediate, _output, _outputNorm })
            d.Dispose();
    }
}

/// <summary>y = x·Wᵀ + b, with W stored [out, in] as in PyTorch.</summary>
internal sealed class Linear(BertWeights w, string prefix, int inFeatures, int outFeatures) : IDisposable
{
    private readonly Tensor _weight = w.Take(prefix + "weight", outFeatures, inFeatures);
    private readonly Tensor _bias = w.Take(prefix + "bias", outFeatures);

    public Tensor Forward(Tensor x) => F.linear(x, _weight, _bias);

    public void Dispose() { _weight.Dispose(); _bias.Dispose(); }
}

/// <summary>LayerNorm over the hidden dimension with the checkpoint's epsilon.</summary>
internal sealed class LayerNorm(BertConfig c, BertWeights w, string prefix) : IDisposable
{
    private readonly Tensor _gamma = w.Take(prefix + "weight", c.HiddenSize);
    private readonly Tensor _beta = w.Take(prefix + "bias", c.HiddenSize);

    public Tensor Forward(Tensor x) => F.layer_norm(x, [c.HiddenSize], _gamma, _beta, c.LayerNormEps);

    public void Dispose() { _gamma.Dispose(); _beta.Dispose(); }
}
