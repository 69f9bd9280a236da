using TorchSharp;

namespace Rag.Generator.Tests;

/// <summary>A fact that is skipped, with the reason, when this machine has no usable CUDA device.</summary>
public sealed class RequiresCudaFactAttribute : FactAttribute
{
    public RequiresCudaFactAttribute()
    {
        if (!torch.cuda.is_available())
            Skip = "CUDA is not available here (torch.cuda.is_available() is false: no GPU or the CPU-only TorchSharp backend).";
    }
}

/// <summary>A fact about behaviour without CUDA; skipped, with the reason, where CUDA is available.</summary>
public sealed class RequiresNoCudaFactAttribute : FactAttribute
{
    public RequiresNoCudaFactAttribute()
    {
        if (torch.cuda.is_available())
            Skip = "CUDA is available here, so the behaviour without it cannot be observed.";
    }
}
