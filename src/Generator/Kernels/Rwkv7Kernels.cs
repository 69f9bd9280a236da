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
    private const int PrefillBlocksPerHead = 4;  // rwkv7.cu: WROWS = 16 value rows per block
    private const int PrefillThreads = 512;      // rwkv7.cu: WTHREADS
    private const int PrefillSharedBytes = 57_600;  // rwkv7.cu: sizeof(WkvShared)
    private const int HeadsPerBlock = 8;            // wkv_inputs, wkv_output: one (token, head) per warp

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
        Module.Launch("wkv7_prefill", (int)(B * H) * PrefillBlocksPerHead, PrefillThreads, args, sharedBytes: PrefillSharedBytes);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// RWKV's token shift and its mixes over a prompt: out[m] = x + (x₋₁ - x)·mix[m] for x [B, T, C] (model dtype)
    /// and mix [M, C] fp32, the first token's x₋₁ from <paramref name="shift"/> [B, C], which then takes the last
    /// token's x. Returns [M, B, T, C].
    /// </summary>
    public Tensor ShiftMix(Tensor x, Tensor shift, Tensor mix)
    {
        long B = x.shape[0], T = x.shape[1], C = x.shape[2], M = mix.shape[0];
        x = x.contiguous();
        var output = empty([M, B, T, C], x.dtype, x.device);
        Module.MakeCurrent();
        var args = new ShiftMixPrefillArgs
        {
            X = CudaModule.Address(x), Shift = CudaModule.Address(shift), Mix = CudaModule.Address(mix), Out = CudaModule.Address(output),
            B = (int)B, T = (int)T, C = (int)C, M = (int)M,
        };
        Module.Launch("shift_mix_prefill_" + Suffix, (int)(B * T), (int)Math.Min(256, C / 8), args);
        shift.copy_(x.select(1, T - 1));  // queued after the kernel, which read the old shift
        return output;
    }

    private static int HeadBlocks(int heads) => (heads + HeadsPerBlock - 1) / HeadsPerBlock;

    /// <summary>The channel mix's hidden activation over a prompt, h = relu(h)² in place (model dtype, contiguous).</summary>
    public Tensor SquaredReluInPlace(Tensor h)
    {
        Module.MakeCurrent();
        var args = new SquaredReluInPlaceArgs { H = CudaModule.Address(h), N = h.numel() };
        Module.Launch("squared_relu_in_place_" + Suffix, (int)Math.Min(8192, (args.N / 8 + 255) / 256), 256, args);
        return h;
    }

    /// <summary>
    /// The WKV scan's inputs [B, T, H, 64] fp32 (r, log w, k', v', a = -kk, b = kk·a) from the time mix's projections
    /// [B, T, C] in the model dtype, as <see cref="TimeMix"/> forms them. Layer 0 (no <paramref name="vLora"/>) writes
    /// its v into <paramref name="vFirst"/>; later layers mix towards it.
    /// </summary>
    public (Tensor R, Tensor LogW, Tensor K, Tensor V, Tensor A, Tensor B) WkvInputs(Tensor r, Tensor k, Tensor v, Tensor wLora, Tensor aLora,
        Tensor? vLora, Tensor vFirst, TimeMix.KernelVectors vectors)
    {
        long B = r.shape[0], T = r.shape[1], C = r.shape[2], H = C / HeadSize;
        Tensor F32() => empty([B, T, H, HeadSize], ScalarType.Float32, r.device);
        var (rOut, logW, kOut, vOut, aOut, bOut) = (F32(), F32(), F32(), F32(), F32(), F32());
        IntPtr A(Tensor? t) => t is null ? IntPtr.Zero : CudaModule.Address(t);
        Module.MakeCurrent();
        var args = new WkvInputsArgs
        {
            R = A(r), K = A(k), V = A(v), WLora = A(wLora), ALora = A(aLora), VLora = A(vLora), VFirst = A(vFirst),
            W0 = A(vectors.W0), A0 = A(vectors.A0), V0 = A(vectors.V0), KK = A(vectors.KK), KA = A(vectors.KA),
            ROut = A(rOut), LogW = A(logW), KOut = A(kOut), VOut = A(vOut), AOut = A(aOut), BOut = A(bOut), H = (int)H, Heads = (int)(B * T * H),
        };
        Module.Launch("wkv_inputs_" + Suffix, HeadBlocks(args.Heads), HeadsPerBlock * 32, args);
        return (rOut, logW, kOut, vOut, aOut, bOut);
    }

    /// <summary>The scan's y [B, T, H, 64] to the output projection's input [B, T, C] in the model dtype:
    /// (GroupNorm(y) + (Σ r k' r_k) v') · g per head.</summary>
    public Tensor WkvOutput(Tensor y, Tensor r, Tensor k, Tensor v, Tensor g, Tensor rK, Tensor lnXWeight, Tensor lnXBias)
    {
        long B = g.shape[0], T = g.shape[1], C = g.shape[2], H = C / HeadSize;
        g = g.contiguous();
        var output = empty([B, T, C], g.dtype, g.device);
        IntPtr A(Tensor t) => CudaModule.Address(t);
        Module.MakeCurrent();
        var args = new WkvOutputArgs
        {
            Y = A(y), R = A(r), K = A(k), V = A(v), G = A(g), RK = A(rK), LnXWeight = A(lnXWeight), LnXBias = A(lnXBias), Out = A(output), H = (int)H,
            Heads = (int)(B * T * H),
        };
        Module.Launch("wkv_output_" + Suffix, HeadBlocks(args.Heads), HeadsPerBlock * 32, args);
        return output;
    }
}
