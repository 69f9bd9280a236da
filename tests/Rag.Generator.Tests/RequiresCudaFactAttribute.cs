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
