using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>The left operand of <see cref="GemmCore"/>: an m×k matrix that can pack itself into MR-row panels.</summary>
internal unsafe interface IGemmA
{
    /// <summary>Panels already packed for rows from <paramref name="i0"/> (a multiple of MR) and the K block at <paramref name="k0"/>, or null.</summary>
    float* Packed(int i0, int k0, int kc);

    /// <summary>
    /// Writes rows [i0, i0+mc) × columns [k0, k0+kc) as ceil(mc/mr) panels, each kc steps of mr values
    /// (rows past mc are zero), scaled by the operand's alpha.
    /// </summary>
    void Pack(float* dest, int i0, int mc, int k0, int kc, int mr);
}

/// <summary>The right operand of <see cref="GemmCore"/>: a k×n matrix that can pack itself into NR-column panels.</summary>
internal unsafe interface IGemmB
{
    /// <summary>Panels already packed for the K block at <paramref name="k0"/> and columns from <paramref name="j0"/> (a multiple of NR), or null.</summary>
    float* Packed(int k0, int kc, int j0);

    /// <summary>Writes rows [k0, k0+kc) × columns [j0, j0+nc) as ceil(nc/nr) panels of kc steps of nr values (columns past nc are zero).</summary>
    void Pack(float* dest, int k0, int kc, int j0, int nc, int nr);
}

/// <summary>A row-major matrix in memory, A[i,k] = p[i*ld + k], or its transpose (p[k*ld + i]).</summary>
internal readonly unsafe struct GemmDenseA(float* p, int ld, bool transposed, float alpha) : IGemmA
{
    public float* Packed(int i0, int k0, int kc) => null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dest, int i0, int mc, int k0, int kc, int mr)
    {
        for (int r0 = 0; r0 < mc; r0 += mr, dest += kc * mr)
        {
            int rows = Math.Min(mr, mc - r0);
            if (transposed)
            {
                if (rows == 8 && mr == 8 && Vector256.IsHardwareAccelerated)
                {
                    // Eight consecutive floats per step (a few-positions convolution packs X's rows so): one vector each.
                    var scale = Vector256.Create(alpha);
                    for (int k = 0; k < kc; k++)
                    {
                        var v = Vector256.Load(p + (long)(k0 + k) * ld + i0 + r0);
                        Vector256.Store(alpha == 1 ? v : v * scale, dest + k * 8);
                    }
                    continue;
                }
                for (int k = 0; k < kc; k++)
                {
                    float* row = p + (long)(k0 + k) * ld + i0 + r0;
                    float* d = dest + k * mr;
                    int r = 0;
                    for (; r < rows; r++) d[r] = alpha * row[r];
                    for (; r < mr; r++) d[r] = 0;
                }
                continue;
            }
            float* src = p + (long)(i0 + r0) * ld + k0;
            if (rows == 8 && mr == 8 && alpha == 1 && Avx.IsSupported)
            {
                int k = 0;
                for (; k + 8 <= kc; k += 8) GemmTranspose.Block8x8(src + k, ld, dest + k * 8);
                for (; k < kc; k++)
                    for (int r = 0; r < 8; r++) dest[k * 8 + r] = src[(long)r * ld + k];
                continue;
            }
            // Row-interleaving: walk k outside so the panel is written sequentially.
            for (int k = 0; k < kc; k++)
            {
                float* d = dest + k * mr;
                int r = 0;
                for (; r < rows; r++) d[r] = alpha * src[(long)r * ld + k];
                for (; r < mr; r++) d[r] = 0;
            }
        }
    }
}

/// <summary>A row-major matrix in memory, B[k,j] = p[k*ld + j], or its transpose (p[j*ld + k]).</summary>
internal readonly unsafe struct GemmDenseB(float* p, int ld, bool transposed) : IGemmB
{
    public float* Packed(int k0, int kc, int j0) => null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dest, int k0, int kc, int j0, int nc, int nr)
    {
        for (int c0 = 0; c0 < nc; c0 += nr, dest += kc * nr)
        {
            int cols = Math.Min(nr, nc - c0);
            if (!transposed)
            {
                for (int k = 0; k < kc; k++)
                {
                    float* src = p + (long)(k0 + k) * ld + j0 + c0;
                    float* d = dest + k * nr;
                    if (cols == nr) new ReadOnlySpan<float>(src, nr).CopyTo(new Span<float>(d, nr));
                    else
                    {
                        int j = 0;
                        for (; j < cols; j++) d[j] = src[j];
                        for (; j < nr; j++) d[j] = 0;
                    }
                }
                continue;
            }
            int j8 = Avx.IsSupported && nr % 8 == 0 ? cols / 8 * 8 : 0;
            for (int j = 0; j < j8; j += 8)
            {
                float* src = p + (long)(j0 + c0 + j) * ld + k0;
                int k = 0;
                for (; k + 8 <= kc; k += 8) GemmTranspose.Block8x8(src + k, ld, dest + k * nr + j, nr);
                for (; k < kc; k++)
                    for (int t = 0; t < 8; t++) dest[k * nr + j + t] = src[(long)t * ld + k];
            }
            for (int j = j8; j < cols; j++)
            {
                float* src = p + (long)(j0 + c0 + j) * ld + k0;
                for (int k = 0; k < kc; k++) dest[k * nr + j] = src[k];
            }
            for (int j = cols; j < nr; j++)
                for (int k = 0; k < kc; k++) dest[k * nr + j] = 0;
        }
    }
}

/// <summary>
/// A constant left operand packed once (at session creation) for one kernel set: K blocks of
/// <see cref="GemmCore.KC"/>, each holding all MR-row panels.
/// </summary>
internal sealed unsafe class GemmPackedA
{
    private readonly float[] _data;
    private readonly float* _base;

    /// <param name="fullDepth">One block of depth K instead of blocks of <see cref="GemmCore.KC"/>: each MR-row panel is
    /// contiguous over all of K, for the offset micro-kernels (<see cref="FullDepthPanel"/>); not usable by GemmCore.</param>
    public GemmPackedA(GemmKernelSet ks, int m, int k, float* a, int lda, bool transposed, float alpha = 1, bool fullDepth = false)
    {
        Kernels = ks;
        M = m;
        K = k;
        FullDepth = fullDepth;
        PaddedM = GemmCore.RoundUp(Math.Max(m, 1), ks.MR);
        _data = GC.AllocateUninitializedArray<float>(PaddedM * Math.Max(k, 1) + 16, pinned: true);
        _base = GemmScratch.AlignedPointer(_data);
        var src = new GemmDenseA(a, lda, transposed, alpha);
        int block = fullDepth ? Math.Max(k, 1) : GemmCore.KC;
        for (int k0 = 0; k0 < k; k0 += block)
            src.Pack(_base + (long)k0 * PaddedM, 0, m, k0, Math.Min(block, k - k0), ks.MR);
    }

    public bool FullDepth { get; }

    /// <summary>The panel of rows from <paramref name="i0"/> (a multiple of MR), K steps of MR values (full-depth packing only).</summary>
    public float* FullDepthPanel(int i0) => _base + (long)i0 * K;

    public GemmKernelSet Kernels { get; }
    public int M { get; }
    public int K { get; }
    public int PaddedM { get; }

    /// <summary>A view for <see cref="GemmCore"/>; the packed array is pinned, so the pointer stays valid.</summary>
    public Ref AsOperand() => new(_base, PaddedM);

    public readonly struct Ref(float* basePtr, int paddedM) : IGemmA
    {
        public float* Packed(int i0, int k0, int kc) => basePtr + (long)k0 * paddedM + (long)i0 * kc;
        public void Pack(float* dest, int i0, int mc, int k0, int kc, int mr) => throw new InvalidOperationException("already packed");
    }
}

/// <summary>A constant right operand packed once for one kernel set (K blocks of <see cref="GemmCore.KC"/> × all NR panels).</summary>
internal sealed unsafe class GemmPackedB
{
    private readonly float[] _data;
    private readonly float* _base;

    public GemmPackedB(GemmKernelSet ks, int k, int n, float* b, int ldb, bool transposed)
    {
        Kernels = ks;
        K = k;
        N = n;
        PaddedN = GemmCore.RoundUp(Math.Max(n, 1), ks.NR);
        _data = GC.AllocateUninitializedArray<float>(PaddedN * Math.Max(k, 1) + 16, pinned: true);
        _base = GemmScratch.AlignedPointer(_data);
        var src = new GemmDenseB(b, ldb, transposed);
        for (int k0 = 0; k0 < k; k0 += GemmCore.KC)
            src.Pack(_base + (long)k0 * PaddedN, k0, Math.Min(GemmCore.KC, k - k0), 0, n, ks.NR);
    }

    public GemmKernelSet Kernels { get; }
    public int K { get; }
    public int N { get; }
    public int PaddedN { get; }

    public Ref AsOperand() => new(_base, PaddedN);

    public readonly struct Ref(float* basePtr, int paddedN) : IGemmB
    {
        public float* Packed(int k0, int kc, int j0) => basePtr + (long)k0 * paddedN + (long)j0 * kc;
        public void Pack(float* dest, int k0, int kc, int j0, int nc, int nr) => throw new InvalidOperationException("already packed");
    }
}

/// <summary>Register transposes used while packing.</summary>
internal static unsafe class GemmTranspose
{
    /// <summary>dest[k·stride + r] = src[r·ld + k] for an 8×8 block (AVX unpack, shuffle and lane permute).</summary>
    public static void Block8x8(float* src, int ld, float* dest, int stride = 8)
    {
        var r0 = Avx.LoadVector256(src); var r1 = Avx.LoadVector256(src + ld);
        var r2 = Avx.LoadVector256(src + 2L * ld); var r3 = Avx.LoadVector256(src + 3L * ld);
        var r4 = Avx.LoadVector256(src + 4L * ld); var r5 = Avx.LoadVector256(src + 5L * ld);
        var r6 = Avx.LoadVector256(src + 6L * ld); var r7 = Avx.LoadVector256(src + 7L * ld);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dest, Avx.Permute2x128(u0, u4, 0x20)); Avx.Store(dest + stride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dest + 2 * stride, Avx.Permute2x128(u2, u6, 0x20)); Avx.Store(dest + 3 * stride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dest + 4 * stride, Avx.Permute2x128(u0, u4, 0x31)); Avx.Store(dest + 5 * stride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dest + 6 * stride, Avx.Permute2x128(u2, u6, 0x31)); Avx.Store(dest + 7 * stride, Avx.Permute2x128(u3, u7, 0x31));
    }
}
