using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// C = A·B stored transposed, C[i, j] at y[j·ldy + i], with the Conv epilogue per column j (bias[j], residual[j·ldr + i],
/// activation): the few-positions convolutions (<see cref="ConvFewPositions"/>) compute Yᵀ = im2col(X)ᵀ·Wᵀ and want Y. The
/// micro-kernel transposes its finished tile in registers and stores eight positions per output channel
/// (<see cref="GemmKernelSet.TransposedKernel"/>), so the product never goes through a scratch buffer and a separate
/// transpose-and-epilogue pass over it (for ResNet-50's 1024←256 layers at 14×14: 800 KB written, read and written again).
/// Depth blocks past the first add to Y in the same layout. Partial tiles are computed into a scratch tile and stored one
/// float at a time. Blocks, tiles and sums are those of <see cref="GemmCore"/>, so the result does not depend on the threads.
/// </summary>
internal static unsafe class GemmTransposedOutput
{
    /// <summary>
    /// Row tiles per packed A block: 32 (256 positions, A 256 KB at depth 256, in L2), so the few-positions layers (196 and 49
    /// positions) stream their weights, the larger operand, once instead of once per 128 positions as GemmCore's blocks do.
    /// </summary>
    private const int MaxRowTiles = 32;

    /// <summary>True when <paramref name="ks"/> has a micro-kernel that stores transposed.</summary>
    public static bool Supported(GemmKernelSet ks) => ks.TransposedKernel != null;

    /// <summary>Yᵀ[m × n] = A[m × k] · B[k × n], split across <paramref name="pool"/> in blocks of whole tiles when worth it.</summary>
    public static void Multiply<TA, TB>(GemmKernelSet ks, int m, int n, int k, TA a, TB b, float* y, int ldy, Epilogue ep, WorkerPool? pool)
        where TA : struct, IGemmA where TB : struct, IGemmB
    {
        if (m <= 0 || n <= 0 || k <= 0) throw new ArgumentOutOfRangeException(nameof(k), "transposed product needs m, n, k > 0");
        var plan = GemmPartition.Plan(ks, m, n, k, pool?.Threads ?? 1,
            aPacked: a.Packed(0, 0, Math.Min(GemmCore.KC, k)) != null, bPacked: b.Packed(0, Math.Min(GemmCore.KC, k), 0) != null);
        if (plan.Parts == 1)
        {
            MultiplyBlock(ks, 0, m, 0, n, k, a, b, y, ldy, ep);
            return;
        }
        pool!.Run(plan.Parts, new Job<TA, TB>(ks, plan, m, n, k, a, b, y, ldy, ep));
    }

    private readonly struct Job<TA, TB>(GemmKernelSet ks, GemmPartition plan, int m, int n, int k, TA a, TB b, float* y, int ldy, Epilogue ep)
        : IParallelJob where TA : struct, IGemmA where TB : struct, IGemmB
    {
        public void Execute(int part)
        {
            var (i0, i1, j0, j1) = plan.Block(part, m, n);
            MultiplyBlock(ks, i0, i1, j0, j1, k, a, b, y, ldy, ep);
        }
    }

    /// <summary>Rows [i0, i1) × columns [j0, j1) of C (i0 a multiple of MR, j0 of NR), into Y = Cᵀ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyBlock<TA, TB>(GemmKernelSet ks, int i0, int i1, int j0, int j1, int k, TA a, TB b, float* y, int ldy, Epilogue ep)
        where TA : struct, IGemmA where TB : struct, IGemmB
    {
        int m = i1 - i0, n = j1 - j0;
        if (m <= 0 || n <= 0) return;
        int mr = ks.MR, nr = ks.NR, mcMax = mr * MaxRowTiles, ncMax = GemmCore.RoundUp(2048, nr);
        var scratch = GemmScratch.ForThread;
        float* bufB = scratch.B(Math.Min(GemmCore.KC, k) * GemmCore.RoundUp(Math.Min(ncMax, n), nr));
        float* bufA = scratch.A(Math.Min(GemmCore.KC, k) * GemmCore.RoundUp(Math.Min(mcMax, m), mr));
        for (int jc = j0; jc < j1; jc += ncMax)
        {
            int nc = Math.Min(ncMax, j1 - jc);
            for (int pc = 0; pc < k; pc += GemmCore.KC)
            {
                int kc = Math.Min(GemmCore.KC, k - pc);
                float* pb = b.Packed(pc, kc, jc);
                if (pb == null) { b.Pack(bufB, pc, kc, jc, nc, nr); pb = bufB; }
                for (int ic = i0; ic < i1; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, i1 - ic);
                    float* pa = a.Packed(ic, pc, kc);
                    if (pa == null) { a.Pack(bufA, ic, mc, pc, kc, mr); pa = bufA; }
                    MacroKernel(ks, pa, pb, y, ldy, ic, jc, mc, nc, kc, pc > 0, pc + kc >= k && ep.IsActive, ep);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MacroKernel(GemmKernelSet ks, float* pa, float* pb, float* y, int ldy, int ic, int jc, int mc, int nc, int kc,
        bool accumulate, bool finish, Epilogue ep)
    {
        int mr = ks.MR, nr = ks.NR;
        var kernel = ks.TransposedKernel;
        var rowTail = ks.RowTailKernel;
        float* tile = stackalloc float[mr * nr];
        GemmTileEpilogue described;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int nw = Math.Min(nr, nc - jr);
            float* bp = pb + (long)jr * kc;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int mh = Math.Min(mr, mc - ir);
                float* ap = pa + (long)ir * kc;
                float* yp = y + (long)(jc + jr) * ldy + ic + ir;
                if (mh == mr && nw == nr)
                {
                    if (finish && ep.Describe(ic + ir, jc + jr, &described))
                    {
                        kernel(ap, bp, yp, ldy, kc, accumulate, &described);
                        continue;
                    }
                    kernel(ap, bp, yp, ldy, kc, accumulate, null);
                }
                else
                {
                    // A partial tile row-major into scratch (the row-tail kernel computes only its rows), then stored transposed.
                    if (nw == nr && rowTail != null) rowTail(mh, ap, bp, tile, nr, kc, false, null);
                    else ks.Kernel(ap, bp, tile, nr, kc, false, null);
                    for (int j = 0; j < nw; j++)
                    {
                        float* dst = yp + (long)j * ldy;
                        if (accumulate) for (int i = 0; i < mh; i++) dst[i] = tile[i * nr + j] + dst[i];
                        else for (int i = 0; i < mh; i++) dst[i] = tile[i * nr + j];
                    }
                }
                if (finish) ep.Apply(yp, ldy, ic + ir, jc + jr, mh, nw);
            }
        }
    }

    /// <summary>
    /// y[j·ldr + i] = act(C[i, j] + bias[j] + residual[j·ldr + i]) (the layout of Y, one output channel j per row):
    /// <see cref="GemmBiasActivation"/> with rows and columns swapped. Bias and residual may be null.
    /// </summary>
    internal readonly struct Epilogue(float* bias, float* residual, int ldr, FusedActivation activation)
    {
        public bool IsActive => !GemmBiasActivation.IsIdentity(bias, residual, activation);

        /// <summary>Finishes positions [i0, i0+rows) of channels [j0, j0+cols); <paramref name="y"/> points at Y[j0, i0].</summary>
        public void Apply(float* y, nint ldy, int i0, int j0, int rows, int cols)
        {
            for (int j = 0; j < cols; j++)
                activation.ApplyRow(y + j * ldy, rows, bias == null ? 0 : bias[j0 + j], residual == null ? null : residual + (long)(j0 + j) * ldr + i0);
        }

        /// <summary>The full tile at (i0, j0) for the transposed micro-kernel; false for the activations it does not apply (then <see cref="Apply"/>).</summary>
        public bool Describe(int i0, int j0, GemmTileEpilogue* tile)
        {
            if (!activation.ToTile(ref *tile)) return false;
            tile->Bias = bias == null ? null : bias + j0;
            tile->Residual = residual == null ? null : residual + (long)j0 * ldr + i0;
            tile->Ldr = ldr;
            return true;
        }
    }

    /// <summary>
    /// Rows r0..r7 (eight positions) of sixteen tile columns, transposed and stored as sixteen rows of eight: column
    /// <paramref name="j0"/> + j at c[(j0 + j)·ldc]. Unpacks and in-lane shuffles give, per 128-bit lane L, positions 0–3 and
    /// 4–7 of column 4L + q; a two-table permute joins each column's halves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreHalf(Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3, Vector512<float> r4,
        Vector512<float> r5, Vector512<float> r6, Vector512<float> r7, float* c, nint ldc, int j0, bool accumulate, GemmTileEpilogue* ep)
    {
        var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
        var lowLanes = Vector512.Create(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
        var highLanes = Vector512.Create(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
        Quad(Avx512F.Shuffle(t0, t2, 0x44), Avx512F.Shuffle(t4, t6, 0x44), lowLanes, highLanes, c, ldc, j0, accumulate, ep);
        Quad(Avx512F.Shuffle(t0, t2, 0xEE), Avx512F.Shuffle(t4, t6, 0xEE), lowLanes, highLanes, c, ldc, j0 + 1, accumulate, ep);
        Quad(Avx512F.Shuffle(t1, t3, 0x44), Avx512F.Shuffle(t5, t7, 0x44), lowLanes, highLanes, c, ldc, j0 + 2, accumulate, ep);
        Quad(Avx512F.Shuffle(t1, t3, 0xEE), Avx512F.Shuffle(t5, t7, 0xEE), lowLanes, highLanes, c, ldc, j0 + 3, accumulate, ep);
    }

    /// <summary>Columns j, j+4, j+8, j+12: lane L of <paramref name="upper4"/> holds positions 0–3 of column j + 4L, <paramref name="lower4"/> 4–7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad(Vector512<float> upper4, Vector512<float> lower4, Vector512<int> lowLanes, Vector512<int> highLanes, float* c, nint ldc,
        int j, bool accumulate, GemmTileEpilogue* ep)
    {
        var w0 = Avx512F.PermuteVar16x32x2(upper4, lowLanes, lower4);
        var w1 = Avx512F.PermuteVar16x32x2(upper4, highLanes, lower4);
        Column(w0.GetLower(), c, ldc, j, accumulate, ep);
        Column(w0.GetUpper(), c, ldc, j + 4, accumulate, ep);
        Column(w1.GetLower(), c, ldc, j + 8, accumulate, ep);
        Column(w1.GetUpper(), c, ldc, j + 12, accumulate, ep);
    }

    /// <summary>Eight positions of column j: added to what Y holds (later depth blocks), finished (last block), stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column(Vector256<float> v, float* c, nint ldc, int j, bool accumulate, GemmTileEpilogue* ep)
    {
        float* p = c + j * ldc;
        if (accumulate) v += Vector256.Load(p);
        if (ep != null)
            v = GemmMicroKernels.Finish(v, ep->Bias, j, ep->Residual, ep->Residual + j * ep->Ldr, Vector256.Create(ep->Lo), Vector256.Create(ep->Hi),
                Vector256.Create(ep->A), Vector256.Create(ep->B), (int)ep->Mode);
        v.Store(p);
    }
}
