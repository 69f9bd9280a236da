using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Rag.Retrieval.Embedded;

/// <summary>Vectors are stored L2-normalised so a dot product is the cosine similarity.</summary>
internal static class VectorMath
{
    /// <returns>A normalised copy; null when the vector has no direction (all zeros, NaN).</returns>
    public static float[]? Normalised(ReadOnlySpan<float> vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (!(norm > 0) || float.IsInfinity(norm)) return null;
        var result = new float[vector.Length];
        TensorPrimitives.Divide(vector, norm, result);
        return result;
    }

    public static byte[] ToBlob(float[] vector) => MemoryMarshal.AsBytes(vector.AsSpan()).ToArray();

    public static float[] FromBlob(byte[] blob) => MemoryMarshal.Cast<byte, float>(blob).ToArray();
}
