using Rag.Generator.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Kernels;

/// <summary>
/// Rag's CUDA kernels for one RWKV-7 model on one GPU: the prefill WKV scan (used inside the TorchSharp forward)
/// and the whole decode step (<see cref="Rwkv7Decoder"/>). Built by <see cref="Load"/>, which says in one line why
/// they cannot run when they cannot.
/// </summary>
internal sealed class Rwkv7Kernels
{
    public const string SourceFile = "rwkv7.cu";
    public const int HeadSize = 64;
    private const int PrefillBlocksPerHead = 2;  // rwkv7.cu: ROWS = 32 value rows per block, 4 threads a row

    private Rwkv7Kernels(CudaModule module, ScalarType dtype)
    {
        Module = module;
        Suffix = dtype switch
        {
            ScalarType.BFloat16 => "bf16",
            ScalarType.Float16 => "f16",
            _ => "f32",
        };
    }

    public CudaModule Module { get; }

    /// <summary>Kernel name suffix of the model dtype: the decode kernels read weights in it.</summary>
    public string Suffix { get; }

    public string Description => $"CUDA kernels ({Module.Architecture}, {Module.Compiler})";

    /// <summary>
    /// The kernels for a model of <paramref name="config"/> in <paramref name="dtype"/> on <paramref name="device"/>,
    /// or null with the reason when <paramref name="mode"/> is auto; with mode on the reason is thrown instead.
    /// </summary>
    public static Rwkv7Kernels? Load(Rwkv7Config config, Device device, ScalarType dtype, KernelsMode mode,
        string? nvrtcPath, string? cacheDirectory, out string? unavailableReason)
    {
        unavailableReason = null;
        if (mode == KernelsMode.Off) return null;
        try
        {
            if (device.type != DeviceType.CUDA)
                throw new KernelsUnavailableException($"Rag's kernels (Generator:Kernels) need a CUDA device; the model runs on '{device}'.");
            if (config.HeadSize != HeadSize)
                throw new KernelsUnavailableException($"The kernels support head size {HeadSize}; this model's is {config.HeadSize}.");
            int[] widths = [config.EmbeddingSize, config.FfnSize, config.DecayLoraRank, config.LearningRateLoraRank, config.ValueLoraRank, config.GateLoraRank];
            if (widths.Any(w => w % 8 != 0))
                throw new KernelsUnavailableException($"The kernels need every matrix width to be a multiple of 8; this model has {string.Join(", ", widths)}.");
            return new Rwkv7Kernels(CudaModule.Get(device.index < 0 ? 0 : device.index, SourceFile, nvrtcPath, cacheDirectory), dtype);
        }
        catch (KernelsUnavailableException e) when (mode == KernelsMode.Auto)
        {
            unavailableReason = e.Message;
            return null;
        }
    }

    /// <summary>
    /// The WKV recurrence over T tokens from <paramref name="state"/> (advanced in place), exactly as
    /// <see cref="Wkv7.Step"/> applied T times. Inputs [B, T, H, 64] fp32; returns y [B, T, H, 64].
    /// </summary>
    public Tensor Wkv7Prefill(Tensor r, Tensor logW, Tensor k, Tensor v, Tensor a, Tensor b, Tensor state)
    {
        using var scope = NewDisposeScope();
        long B = r.shape[0], T = r.shape[1], H = r.shape[2];
        Tensor Input(Tensor t) => t.to(ScalarType.Float32).contiguous();
        (r, logW, k, v, a, b) = (Input(r), Input(logW), Input(k), Input(v), Input(a), Input(b));
        if (!state.is_contiguous() || state.dtype != ScalarType.Float32)
            throw new ArgumentException("The WKV state must be a contiguous fp32 tensor [B, H, 64, 64].", nameof(state));
        var y = empty_like(r);
        Module.MakeCurrent();
        var args = new WkvPrefillArgs
        {
            R = CudaModule.Address(r), LogW = CudaModule.Address(logW), K = CudaModule.Address(k), A = CudaModule.Address(a),
            B = CudaModule.Address(b), V = CudaModule.Address(v), State = CudaModule.Address(state), Y = CudaModule.Address(y),
            T = (int)T, H = (int)H,
        };
        // On libtorch's stream: the inputs may go back to its allocator once this returns, and anything that reuses
        // their memory is queued after this kernel.
        Module.Launch("wkv7_prefill", (int)(B * H) * PrefillBlocksPerHead, HeadSize / PrefillBlocksPerHead * 4, args);
        return y.MoveToOuterDisposeScope();
    }
}
