namespace Rag.Generator.Kernels;

/// <summary>The CUDA kernels cannot run here; the message is one line naming what is missing.</summary>
public sealed class KernelsUnavailableException(string message) : Exception(message);
