using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Loom.Kernels.Common;

/// <summary>
/// Matrix-vector products for a single row of A (batch-1 fully connected layers). Packing would cost as
/// much as the product itself here, so B is read in place: rows of B are accumulated (axpy) or, for a
/// transposed B, each output is a dot product of two contiguous rows.
/// </summary>
internal static unsafe class GemmVector
{
    private const int Chunk = 2048;

    /// <summary>c[0..n) (+)= alpha · Σ_k a[k·aStride] · B[k, j] with B[k,j] = b[k·ldb + j] (or b[j·ldb + k] if transposed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowTimesMatrix(int n, int k, float alpha, float* a, int aStride, float* b, int ldb, bool transB, float* c, bool accumulate)
    {
        var scratch = GemmScratch.ForThread;
        float* av = a;
        if (aStride != 1 || alpha != 1)
        {
            av = scratch.A(k);
            for (int i = 0; i < k; i++) av[i] = alpha * a[(long)i * aStride];
        }
        var x = new ReadOnlySpan<float>(av, k);
        if (transB)
        {
            for (int j = 0; j < n; j++)
            {
                float dot = TensorPrimitives.Dot(x, new ReadOnlySpan<float>(b + (long)j * ldb, k));
                c[j] = accumulate ? c[j] + dot : dot;
            }
            return;
        }
        float* acc = scratch.B(Math.Min(Chunk, n));
        for (int j0 = 0; j0 < n; j0 += Chunk)
        {
            int w = Math.Min(Chunk, n - j0);
            var sum = new Span<float>(acc, w);
            sum.Clear();
            for (int i = 0; i < k; i++)
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(b + (long)i * ldb + j0, w), x[i], sum, sum);
            var dst = new Span<float>(c + j0, w);
            if (accumulate) TensorPrimitives.Add(dst, sum, dst);
            else sum.CopyTo(dst);
        }
    }

    /// <summary>c[i·ldc] (+)= alpha · Σ_k A[i, k] · b[k] for a row-major A and a contiguous column b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatrixTimesColumn(int m, int k, float alpha, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        var x = new ReadOnlySpan<float>(b, k);
        for (int i = 0; i < m; i++)
        {
            float dot = alpha * TensorPrimitives.Dot(new ReadOnlySpan<float>(a + (long)i * lda, k), x);
            c[(long)i * ldc] = accumulate ? c[(long)i * ldc] + dot : dot;
        }
    }
}
