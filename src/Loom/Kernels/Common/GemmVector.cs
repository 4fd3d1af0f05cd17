using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Loom.Runtime.Threading;

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
    public static void RowTimesMatrix(int n, int k, float alpha, float* a, int aStride, float* b, int ldb, bool transB, float* c, bool accumulate,
        WorkerPool? pool = null)
    {
        float* av = a;
        if (aStride != 1 || alpha != 1)
        {
            av = GemmScratch.ForThread.A(k);
            for (int i = 0; i < k; i++) av[i] = alpha * a[(long)i * aStride];
        }
        int chunks = (n + Chunk - 1) / Chunk;
        // Column chunks are independent; split them when the product is big enough to pay for waking threads.
        int parts = pool is null || (long)n * k < 1 << 18 ? 1 : Math.Min(pool.Threads * 2, transB ? Math.Max(1, n / 64) : chunks);
        var job = new RowJob(n, k, av, b, ldb, transB, c, accumulate, parts);
        if (parts == 1) job.Execute(0);
        else pool!.Run(parts, job);
    }

    private readonly struct RowJob(int n, int k, float* a, float* b, int ldb, bool transB, float* c, bool accumulate, int parts) : IParallelJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int part)
        {
            var x = new ReadOnlySpan<float>(a, k);
            if (transB)
            {
                int j0 = (int)((long)n * part / parts), j1 = (int)((long)n * (part + 1) / parts);
                RowDots.Run(j0, j1, k, a, b, ldb, c, accumulate);
                return;
            }
            int chunks = (n + Chunk - 1) / Chunk;
            int c0 = (int)((long)chunks * part / parts), c1 = (int)((long)chunks * (part + 1) / parts);
            float* acc = GemmScratch.ForThread.B(Math.Min(Chunk, n));
            for (int j0 = c0 * Chunk; j0 < Math.Min(n, c1 * Chunk); j0 += Chunk)
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
