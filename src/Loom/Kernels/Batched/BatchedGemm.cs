using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Kernels.Common;

namespace Loom.Kernels.Batched;

/// <summary>
/// <c>C[m×n] (+)= rows(A)[m×k] · B</c> with B a weight block packed once (<see cref="GemmPackedB"/>) and A's
/// rows gathered through pointers. A handful of rows (an unbatched node, the deep end of a tree) would waste
/// most of a register tile, so 2 to <see cref="SmallM"/> rows stream the packed panels directly instead (a single row
/// runs faster through GemmCore's row-tail kernel: 36 against 28 GFLOP/s at K = 512, N = 2048, thread CPU time).
/// </summary>
internal static unsafe class BatchedGemm
{
    public const int SmallM = 4;

    public static void Multiply(int m, int n, int k, float** aRows, GemmPackedB b, float* c, int ldc, bool accumulate) =>
        Multiply(m, n, k, aRows, b, 0, c, ldc, accumulate);

    /// <summary>Against columns [<paramref name="bCol0"/>, +n) of <paramref name="b"/> (bCol0 a multiple of NR): one thread's share of the output columns.</summary>
    public static void Multiply(int m, int n, int k, float** aRows, GemmPackedB b, int bCol0, float* c, int ldc, bool accumulate)
    {
        if (m <= 0) return;
        if (m is > 1 and <= SmallM && b.Kernels.NR == 32 && Avx512F.IsSupported)
        {
            SmallRows512(m, n, k, aRows, b.AsOperand(), bCol0, c, ldc, accumulate);
            return;
        }
        GemmCore.Multiply(b.Kernels, m, n, k, new GemmRowsA(aRows), new PackedColumns(b.AsOperand(), bCol0), c, ldc, accumulate);
    }

    /// <summary>Up to four rows against 32-wide packed panels: each panel row is loaded once and used by every row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SmallRows512(int m, int n, int k, float** a, GemmPackedB.Ref b, int bCol0, float* c, int ldc, bool accumulate)
    {
        const int nr = 32;
        float* a0 = a[0], a1 = a[Math.Min(1, m - 1)], a2 = a[Math.Min(2, m - 1)], a3 = a[Math.Min(3, m - 1)];
        float* acc = stackalloc float[4 * nr];
        for (int j0 = 0; j0 < n; j0 += nr)
        {
            Vector512<float> s00 = default, s01 = default, s10 = default, s11 = default;
            Vector512<float> s20 = default, s21 = default, s30 = default, s31 = default;
            for (int k0 = 0; k0 < k; k0 += GemmCore.KC)
            {
                int kc = Math.Min(GemmCore.KC, k - k0);
                float* panel = b.Packed(k0, kc, bCol0 + j0);
                for (int p = 0; p < kc; p++, panel += nr)
                {
                    var b0 = Vector512.Load(panel);
                    var b1 = Vector512.Load(panel + 16);
                    int kk = k0 + p;
                    var x = Vector512.Create(a0[kk]); s00 = Avx512F.FusedMultiplyAdd(x, b0, s00); s01 = Avx512F.FusedMultiplyAdd(x, b1, s01);
                    x = Vector512.Create(a1[kk]); s10 = Avx512F.FusedMultiplyAdd(x, b0, s10); s11 = Avx512F.FusedMultiplyAdd(x, b1, s11);
                    x = Vector512.Create(a2[kk]); s20 = Avx512F.FusedMultiplyAdd(x, b0, s20); s21 = Avx512F.FusedMultiplyAdd(x, b1, s21);
                    x = Vector512.Create(a3[kk]); s30 = Avx512F.FusedMultiplyAdd(x, b0, s30); s31 = Avx512F.FusedMultiplyAdd(x, b1, s31);
                }
            }
            s00.Store(acc); s01.Store(acc + 16); s10.Store(acc + 32); s11.Store(acc + 48);
            s20.Store(acc + 64); s21.Store(acc + 80); s30.Store(acc + 96); s31.Store(acc + 112);
            int nw = Math.Min(nr, n - j0);
            for (int r = 0; r < m; r++)
            {
                float* dst = c + (long)r * ldc + j0, src = acc + r * nr;
                if (accumulate) for (int j = 0; j < nw; j++) dst[j] += src[j];
                else for (int j = 0; j < nw; j++) dst[j] = src[j];
            }
        }
    }
}

/// <summary>Batched GEMM over a row-major A with a leading dimension (rows already contiguous by memory planning).</summary>
internal static unsafe class StridedGemm
{
    /// <summary><c>C[m×n] (+)= A[m×k] · B</c>, A row i at <c>a + i·lda</c>.</summary>
    public static void Multiply(int m, int n, int k, float* a, int lda, GemmPackedB b, float* c, int ldc, bool accumulate) =>
        Multiply(m, n, k, a, lda, b, 0, c, ldc, accumulate);

    /// <summary>Against columns [<paramref name="bCol0"/>, +n) of <paramref name="b"/> (bCol0 a multiple of NR).</summary>
    public static void Multiply(int m, int n, int k, float* a, int lda, GemmPackedB b, int bCol0, float* c, int ldc, bool accumulate)
    {
        if (m <= 0) return;
        if (m is > 1 and <= BatchedGemm.SmallM)
        {
            float** rows = stackalloc float*[BatchedGemm.SmallM];
            for (int i = 0; i < m; i++) rows[i] = a + (long)i * lda;
            BatchedGemm.Multiply(m, n, k, rows, b, bCol0, c, ldc, accumulate);
            return;
        }
        GemmCore.Multiply(b.Kernels, m, n, k, new GemmDenseA(a, lda, false, 1f), new PackedColumns(b.AsOperand(), bCol0), c, ldc, accumulate);
    }
}

/// <summary>Columns from <c>col0</c> (a multiple of NR) of a pre-packed B: the packed panels are addressed by column, so no copy.</summary>
internal readonly unsafe struct PackedColumns(GemmPackedB.Ref b, int col0) : IGemmB
{
    public float* Packed(int k0, int kc, int j0) => b.Packed(k0, kc, col0 + j0);
    public void Pack(float* dest, int k0, int kc, int j0, int nc, int nr) => throw new InvalidOperationException("already packed");
}
