using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Loom.Kernels.Common;

namespace Loom.Kernels.Batched;

/// <summary>
/// A left GEMM operand whose rows live anywhere: <c>A[i, k] = rows[i][k]</c>. Rows are gathered while
/// packing, which <see cref="GemmCore"/> does anyway, so a batch whose operands are scattered over memory
/// costs no copy (ACRoBat's "gather through pointer arrays").
/// </summary>
internal readonly unsafe struct GemmRowsA(float** rows) : IGemmA
{
    public float* Packed(int i0, int k0, int kc) => null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dest, int i0, int mc, int k0, int kc, int mr)
    {
        float** p8 = stackalloc float*[8];
        for (int r0 = 0; r0 < mc; r0 += mr, dest += kc * mr)
        {
            int count = Math.Min(mr, mc - r0);
            float** src = rows + i0 + r0;
            if (count == 8 && mr == 8 && Avx.IsSupported)
            {
                for (int r = 0; r < 8; r++) p8[r] = src[r] + k0;
                int k = 0;
                for (; k + 8 <= kc; k += 8) Transpose8x8(p8, k, dest + k * 8);
                for (; k < kc; k++)
                    for (int r = 0; r < 8; r++) dest[k * 8 + r] = p8[r][k];
                continue;
            }
            for (int k = 0; k < kc; k++)
            {
                float* d = dest + k * mr;
                int r = 0;
                for (; r < count; r++) d[r] = src[r][k0 + k];
                for (; r < mr; r++) d[r] = 0;
            }
        }
    }

    /// <summary>dest[k·8 + r] = rows[r][k0 + k] for k in 0..8: an 8×8 register transpose from eight separate rows.</summary>
    private static void Transpose8x8(float** p, int k0, float* dest)
    {
        var r0 = Avx.LoadVector256(p[0] + k0); var r1 = Avx.LoadVector256(p[1] + k0);
        var r2 = Avx.LoadVector256(p[2] + k0); var r3 = Avx.LoadVector256(p[3] + k0);
        var r4 = Avx.LoadVector256(p[4] + k0); var r5 = Avx.LoadVector256(p[5] + k0);
        var r6 = Avx.LoadVector256(p[6] + k0); var r7 = Avx.LoadVector256(p[7] + k0);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dest, Avx.Permute2x128(u0, u4, 0x20)); Avx.Store(dest + 8, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dest + 16, Avx.Permute2x128(u2, u6, 0x20)); Avx.Store(dest + 24, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dest + 32, Avx.Permute2x128(u0, u4, 0x31)); Avx.Store(dest + 40, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dest + 48, Avx.Permute2x128(u2, u6, 0x31)); Avx.Store(dest + 56, Avx.Permute2x128(u3, u7, 0x31));
    }
}

/// <summary>A right GEMM operand whose rows live anywhere: <c>B[k, j] = rows[k][j]</c> (weight gradients: Xᵀ·dY over a batch).</summary>
internal readonly unsafe struct GemmRowsB(float** rows) : IGemmB
{
    public float* Packed(int k0, int kc, int j0) => null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dest, int k0, int kc, int j0, int nc, int nr)
    {
        for (int c0 = 0; c0 < nc; c0 += nr, dest += kc * nr)
        {
            int cols = Math.Min(nr, nc - c0);
            for (int k = 0; k < kc; k++)
            {
                float* src = rows[k0 + k] + j0 + c0;
                float* d = dest + k * nr;
                if (cols == nr) new ReadOnlySpan<float>(src, nr).CopyTo(new Span<float>(d, nr));
                else
                {
                    int j = 0;
                    for (; j < cols; j++) d[j] = src[j];
                    for (; j < nr; j++) d[j] = 0;
                }
            }
        }
    }
}
