using System.Runtime.CompilerServices;

namespace Loom.Kernels.Common;

/// <summary>
/// The one float32 matrix multiply of Loom: <c>C[m×n] = op(A)[m×k] · op(B)[k×n]</c>, or added to C.
/// BLIS-style: B is packed in KC×NC blocks (kept in L2/L3), A in MC×KC blocks (L2), and a register-tiled
/// micro-kernel (<see cref="GemmKernelSet"/>) walks MR×NR tiles whose B micro-panel stays in L1.
/// Operands come through <see cref="IGemmA"/>/<see cref="IGemmB"/>, so transposes, pre-packed weights and
/// im2col (implicit GEMM) are all handled while packing; alpha is applied while packing A.
/// </summary>
internal static unsafe class GemmCore
{
    /// <summary>Depth of a packed block. Pre-packed operands are laid out in blocks of this depth.</summary>
    public const int KC = 256;

    private static int MC(GemmKernelSet ks) => ks.MR * 16;
    private static int NC(GemmKernelSet ks) => RoundUp(2048, ks.NR);

    /// <summary>Dense row-major operands; a single row of A or column of B takes a matrix-vector path without packing.</summary>
    public static void Multiply(int m, int n, int k, float alpha, float* a, int lda, bool transA,
        float* b, int ldb, bool transB, float* c, int ldc, bool accumulate)
    {
        if (m == 1 && k > 0 && n > 0)
        {
            GemmVector.RowTimesMatrix(n, k, alpha, a, transA ? lda : 1, b, ldb, transB, c, accumulate);
            return;
        }
        if (n == 1 && k > 0 && m > 0 && !transA && (transB || ldb == 1))
        {
            GemmVector.MatrixTimesColumn(m, k, alpha, a, lda, b, c, ldc, accumulate);
            return;
        }
        Multiply(GemmKernelSet.Best, m, n, k, new GemmDenseA(a, lda, transA, alpha), new GemmDenseB(b, ldb, transB), c, ldc, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<TA, TB>(GemmKernelSet ks, int m, int n, int k, TA a, TB b, float* c, int ldc, bool accumulate)
        where TA : struct, IGemmA where TB : struct, IGemmB
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++) new Span<float>(c + (long)i * ldc, n).Clear();
            return;
        }
        int mr = ks.MR, nr = ks.NR, mcMax = MC(ks), ncMax = NC(ks);
        var scratch = GemmScratch.ForThread;
        float* bufB = scratch.B(Math.Min(KC, k) * RoundUp(Math.Min(ncMax, n), nr));
        float* bufA = scratch.A(Math.Min(KC, k) * RoundUp(Math.Min(mcMax, m), mr));
        for (int jc = 0; jc < n; jc += ncMax)
        {
            int nc = Math.Min(ncMax, n - jc);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kc = Math.Min(KC, k - pc);
                float* pb = b.Packed(pc, kc, jc);
                if (pb == null) { b.Pack(bufB, pc, kc, jc, nc, nr); pb = bufB; }
                bool acc = accumulate || pc > 0;
                for (int ic = 0; ic < m; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, m - ic);
                    float* pa = a.Packed(ic, pc, kc);
                    if (pa == null) { a.Pack(bufA, ic, mc, pc, kc, mr); pa = bufA; }
                    MacroKernel(ks, pa, pb, c + (long)ic * ldc + jc, ldc, mc, nc, kc, acc);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MacroKernel(GemmKernelSet ks, float* pa, float* pb, float* c, int ldc, int mc, int nc, int kc, bool accumulate)
    {
        int mr = ks.MR, nr = ks.NR;
        var kernel = ks.Kernel;
        float* tile = stackalloc float[mr * nr];
        for (int jr = 0; jr < nc; jr += nr)
        {
            int nw = Math.Min(nr, nc - jr);
            float* bp = pb + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int mh = Math.Min(mr, mc - ir);
                float* ap = pa + (long)ir * kc;
                float* cp = c + (long)ir * ldc + jr;
                if (mh == mr && nw == nr)
                {
                    kernel(ap, bp, cp, ldc, kc, accumulate);
                    continue;
                }
                // A partial tile is computed whole into a scratch tile (packing zero-filled the missing rows
                // and columns), then only its valid part is stored.
                kernel(ap, bp, tile, nr, kc, false);
                for (int i = 0; i < mh; i++)
                {
                    float* src = tile + i * nr, dst = cp + (long)i * ldc;
                    if (accumulate) for (int j = 0; j < nw; j++) dst[j] += src[j];
                    else for (int j = 0; j < nw; j++) dst[j] = src[j];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}

/// <summary>Per-thread packing buffers, 64-byte aligned and pinned, grown on demand.</summary>
internal sealed unsafe class GemmScratch
{
    [ThreadStatic] private static GemmScratch? _forThread;
    public static GemmScratch ForThread => _forThread ??= new GemmScratch();

    private AlignedBuffer _a, _b, _extra;

    public float* A(int floats) => _a.Get(floats);
    public float* B(int floats) => _b.Get(floats);

    /// <summary>A third buffer for callers (im2col scratch, tiles); not used by <see cref="GemmCore"/> itself.</summary>
    public float* Extra(int floats) => _extra.Get(floats);

    private struct AlignedBuffer
    {
        private float[]? _array;
        private float* _ptr;
        private int _capacity;

        public float* Get(int floats)
        {
            if (floats > _capacity)
            {
                _capacity = Math.Max(floats, _capacity * 2);
                _array = GC.AllocateUninitializedArray<float>(_capacity + 16, pinned: true);
                _ptr = AlignedPointer(_array);
            }
            return _ptr;
        }
    }

    /// <summary>The first 64-byte aligned element of a pinned array (which must have 16 spare elements).</summary>
    public static float* AlignedPointer(float[] pinned)
    {
        var p = (float*)Unsafe.AsPointer(ref pinned[0]);
        return (float*)(((nint)p + 63) & ~(nint)63);
    }
}
