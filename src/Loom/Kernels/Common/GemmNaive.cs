using System.Numerics;
using System.Runtime.CompilerServices;

namespace Loom.Kernels.Common;

/// <summary>
/// Matrix multiply for the dtypes without a tuned kernel (float64 and the integers): plain loops in
/// i-k-j order, so the inner loop runs along contiguous rows of B and C. Integers wrap on overflow,
/// as in ONNX Runtime.
/// </summary>
internal static class GemmNaive
{
    /// <summary>c[m×n] = op(a) · op(b), with A[i,k] = a[i·lda + k] (or a[k·lda + i] if transposed), likewise B.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<T>(int m, int n, int k, ReadOnlySpan<T> a, int lda, bool transA,
        ReadOnlySpan<T> b, int ldb, bool transB, Span<T> c, int ldc) where T : INumberBase<T>
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            row.Clear();
            for (int p = 0; p < k; p++)
            {
                T av = transA ? a[p * lda + i] : a[i * lda + p];
                if (transB)
                    for (int j = 0; j < n; j++) row[j] += av * b[j * ldb + p];
                else
                {
                    var brow = b.Slice(p * ldb, n);
                    for (int j = 0; j < n; j++) row[j] += av * brow[j];
                }
            }
        }
    }
}
