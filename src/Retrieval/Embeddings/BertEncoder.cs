using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Rag.Retrieval.Embeddings;

/// <summary>
/// A BERT-family sentence encoder over a Hugging Face checkpoint folder (model.safetensors, config.json, vocab.txt).
/// Texts are tokenized, grouped by length into batches (less padding), encoded, pooled and optionally L2-normalised.
/// </summary>
public sealed class BertEncoder : IDisposable
{
    private readonly BertModel _model;
    private readonly BertTextTokenizer _tokenizer;
    private readonly EmbeddingPooling _pooling;
    private readonly bool _normalize;
    private readonly int _batchSize;
    private readonly Device _device;
    // One forward pass at a time: libtorch already spreads a pass over all cores, concurrent passes only contend.
    private readonly Lock _gate = new();

    public int Dimensions => _model.Config.HiddenSize;

    /// <summary>Effective maximum tokens per input, [CLS] and [SEP] included.</summary>
    public int MaxSequenceLength { get; }

    private BertEncoder(BertModel model, BertTextTokenizer tokenizer, BertEmbeddingOptions options, int maxLength, Device device)
    {
        _model = model;
        _tokenizer = tokenizer;
        _pooling = options.Pooling;
        _normalize = options.Normalize;
        _batchSize = options.BatchSize;
        _device = device;
        MaxSequenceLength = maxLength;
    }

    /// <summary>Loads the checkpoint named by <see cref="BertEmbeddingOptions.ModelDirectory"/> onto <see cref="BertEmbeddingOptions.Device"/>.</summary>
    public static BertEncoder Load(BertEmbeddingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ModelDirectory))
            throw new ArgumentException($"{BertEmbeddingOptions.SectionName}:ModelDirectory is not set", nameof(options));
        if (!Directory.Exists(options.ModelDirectory))
            throw new DirectoryNotFoundException($"{BertEmbeddingOptions.SectionName}:ModelDirectory '{options.ModelDirectory}' does not exist");
        if (options.MaxSequenceLength < 3)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxSequenceLength, $"{BertEmbeddingOptions.SectionName}:MaxSequenceLength must be at least 3 ([CLS], one token, [SEP])");
        if (options.BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, $"{BertEmbeddingOptions.SectionName}:BatchSize must be at least 1");

        var device = Rag.Generator.Runtime.TorchDevices.Parse(options.Device, $"{BertEmbeddingOptions.SectionName}:Device");
        var config = BertConfig.Load(Path.Combine(options.ModelDirectory, "config.json"));
        var maxLength = Math.Min(options.MaxSequenceLength, config.MaxPositionEmbeddings);
        var tokenizer = BertTextTokenizer.Load(options.ModelDirectory, options.LowerCase, maxLength);
        using var weights = BertWeights.Load(Path.Combine(options.ModelDirectory, "model.safetensors"), device);
        return new BertEncoder(new BertModel(config, weights), tokenizer, options, maxLength, device);
    }

    /// <summary>Token ids the model sees for <paramref name="text"/>: [CLS] pieces [SEP], truncated to <see cref="MaxSequenceLength"/>.</summary>
    public int[] Tokenize(string text) => _tokenizer.Encode(text);

    /// <summary>One vector per text, in input order, plus the number of tokens encoded.</summary>
    public (float[][] Vectors, long TokenCount) Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        var ids = texts.Select(Tokenize).ToArray();
        var vectors = new float[texts.Count][];
        // Sorting by length keeps padding (wasted compute) small inside each batch.
        var order = Enumerable.Range(0, ids.Length).OrderBy(i => ids[i].Length).ToArray();
        foreach (var batch in order.Chunk(_batchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pooled = EncodeBatch(batch.Select(i => ids[i]).ToArray());
            for (var j = 0; j < batch.Length; j++) vectors[batch[j]] = pooled[j];
        }
        return (vectors, ids.Sum(x => (long)x.Length));
    }

    private float[][] EncodeBatch(int[][] batch)
    {
        int b = batch.Length, t = batch.Max(x => x.Length), c = Dimensions;
        var idData = new long[b * t];
        var maskData = new bool[b * t];
        for (var i = 0; i < b; i++)
        {
            Array.Fill(idData, _tokenizer.PaddingTokenId, i * t, t);
            for (var j = 0; j < batch[i].Length; j++)
            {
                idData[i * t + j] = batch[i][j];
                maskData[i * t + j] = true;
            }
        }

        float[] flat;
        lock (_gate)
        {
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var inputIds = tensor(idData, [b, t], ScalarType.Int64).to(_device);
            var mask = tensor(maskData, [b, t]).to(_device);
            var hidden = _model.Forward(inputIds, mask);                 // [B, T, C]
            var pooled = Pool(hidden, mask);                             // [B, C]
            if (_normalize) pooled = F.normalize(pooled, p: 2, dim: -1);
            flat = pooled.cpu().data<float>().ToArray();
        }
        return Enumerable.Range(0, b).Select(i => flat.AsSpan(i * c, c).ToArray()).ToArray();
    }

    private Tensor Pool(Tensor hidden, Tensor mask) => _pooling switch
    {
        EmbeddingPooling.Cls => hidden.select(1, 0),
        _ => MeanOverRealTokens(hidden, mask),
    };

    private static Tensor MeanOverRealTokens(Tensor hidden, Tensor mask)
    {
        var weights = mask.unsqueeze(-1).to(hidden.dtype);               // [B, T, 1]
        return (hidden * weights).sum(1) / weights.sum(1);               // [B, C]
    }

    public void Dispose() => _model.Dispose();
}
