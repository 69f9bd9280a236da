namespace Rag.Generator.Kernels;

/// <summary>
/// The CUDA kernels cannot run here; the message is one line naming what is missing. An invalid operation for this
/// machine, so front ends show it as such (the CLI as one line, not a stack trace).
/// </summary>
public sealed class KernelsUnavailableException(string message) : InvalidOperationException(message);
