using System.Diagnostics;
using System.Threading.Channels;
using Rag.Generator.Generation;
using Rag.Generator.Model;
using Rag.Generator.Tokenization;
using static TorchSharp.torch;

namespace Rag.Generator.Serving;

/// <summary>
/// One request inside the scheduler: its prompt, its own sampler, decoder and stop filter (each row of a batch
/// samples by its own settings), where its prefill has got to, and the channel its text goes out through.
/// Only the scheduler's thread touches it, except <see cref="Cancel"/>.
/// </summary>
internal sealed class ScheduledSequence(int[] prompt, SamplingOptions sampling, TextGeneration generation, WorldTokenizer tokenizer, ActivityContext parent)
{
    private volatile bool _cancelled;

    public int[] Prompt { get; } = prompt;
    public SamplingOptions Sampling { get; } = sampling;
    public TextGeneration Generation { get; } = generation;
    public ActivityContext Parent { get; } = parent;
    public Sampler Sampler { get; } = new(sampling);
    public StreamingDecoder Decoder { get; } = tokenizer.CreateStreamingDecoder();
    public StopSequenceFilter Stops { get; } = new(sampling.StopSequences);
    public Dictionary<int, double> TokenCounts { get; } = [];

    /// <summary>Generated tokens, end of text excluded; the first <see cref="Forwarded"/> of them were fed back.</summary>
    public List<int> Generated { get; } = [];
    public int Forwarded { get; set; }

    public Channel<string> Output { get; } = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    public long ArrivedAt { get; } = Stopwatch.GetTimestamp();

    /// <summary>While prefilling: its own one-sequence state, the next prompt position to read, the last logits.</summary>
    public IModelState? State { get; set; }
    public int Position { get; set; }
    public Tensor? Logits { get; set; }

    public Activity? Prefill { get; set; }
    public Activity? Decode { get; set; }

    public bool Cancelled => _cancelled;

    /// <summary>The client is gone: the scheduler drops the sequence at its next step boundary.</summary>
    public void Cancel() => _cancelled = true;

    /// <summary>The tokens its state has read: the prompt, then the generated tokens fed back.</summary>
    public int[] ReadTokens() => [.. Prompt, .. Generated.Take(Forwarded)];

    /// <summary>Frees what the sequence holds besides its batch slot and ends its output.</summary>
    public void Close(Exception? error = null)
    {
        State?.Dispose();
        State = null;
        Logits?.Dispose();
        Logits = null;
        Output.Writer.TryComplete(error);
    }
}
