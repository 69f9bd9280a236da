namespace Rag.Generator.Kernels;

/// <summary>Setting Generator:Kernels: whether the model runs on Rag's own CUDA kernels.</summary>
public enum KernelsMode
{
    /// <summary>On CUDA when they load (NVRTC found, supported shape); otherwise the TorchSharp path.</summary>
    Auto,

    /// <summary>Always; a model that cannot use them fails to load with a one-line reason.</summary>
    On,

    /// <summary>Never: the TorchSharp path, the reference (and the only one on the CPU).</summary>
    Off,
}
