using System.Runtime.CompilerServices;

namespace Loom.Kernels.Common;

/// <summary>
/// Exact int32 matrix products on the float32 GEMM core, for the 8-bit (and 16-bit) integer operators.
/// Operands are small integers held as floats; a float sum stays exact while every partial sum is below
/// 2^24 in magnitude, which holds over a depth of 2^24 / max|a|·max|b| terms. The depth is cut into such
/// chunks, each multiplied in float32 and added into the int32 result.
/// </summary>
internal static unsafe class GemmExactInt
{
    /// <summary>The largest depth whose float32 partial sums are exact for operands bounded by the given magnitudes.</summary>
    public static int ChunkDepth(float maxAbsA, float maxAbsB)
    {
        double product = (double)maxAbsA * maxAbsB;
        return product < 1 ? int.MaxValue : (int)Math.Max(1, Math.Min(int.MaxValue, (double)(1 << 24) / product));
    }

    public static float MaxAbs(ReadOnlySpan<float> v)
    {
        float m = 0;
        foreach (var x in v) m = Math.Max(m, Math.Abs(x));
        return m;
    }

    /// <summary>c[m×n] += A[m×k] · B[k×n] exactly, A row-major (lda), depth cut into chunks of <paramref name="chunk"/>.</summary>
    public static void MultiplyAdd<TB>(int m, int n, int k, float* a, int lda, TB b, int* c, int chunk) where TB : struct, IGemmB
    {
        if (m == 0 || n == 0 || k == 0) return;
        float* tmp = GemmScratch.ForThread.Extra(m * n);
        var ks = GemmKernelSet.Current;
        for (int k0 = 0; k0 < k; k0 += chunk)
        {
            int kc = Math.Min(chunk, k - k0);
            GemmCore.Multiply(ks, m, n, kc, new GemmDenseA(a + k0, lda, false, 1), new ShiftedB<TB>(b, k0), tmp, n, false);
            AddRounded(tmp, c, m * n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddRounded(float* src, int* dst, int count)
    {
        for (int i = 0; i < count; i++) dst[i] += (int)src[i];
    }

    /// <summary>Rows [offset, …) of another right operand, so a depth chunk can be multiplied on its own.</summary>
    private readonly struct ShiftedB<TB>(TB inner, int offset) : IGemmB where TB : struct, IGemmB
    {
        public float* Packed(int k0, int kc, int j0) => null;
        public void Pack(float* dest, int k0, int kc, int j0, int nc, int nr) => inner.Pack(dest, k0 + offset, kc, j0, nc, nr);
    }
}
