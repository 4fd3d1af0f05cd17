using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Loom.Kernels.Common;

namespace Loom.Kernels.Batched;

/// <summary>
/// The TreeLSTM's level and leaf batches as one fused kernel each, for H a multiple of 32 with the AVX-512 8×32
/// micro-kernel. The weights are packed per block of 32 hidden units (<see cref="NodePanels"/>): an internal node's
/// block is five panels, f_l (K = H, the left child), i, o, u (K = 2H, both children) and f_r (K = H, the right
/// child), so every gate of the block is one micro-kernel call over its whole depth on the packed
/// <c>[h_l; h_r]</c> rows, with no zero blocks, no second pass adding the right child and no partial sums in
/// memory. The five 8×32 results go to a 5 KB scratch tile that the gate pass reads while it is in L1: the 5H-wide
/// gate rows are never written out. Blocks are the outer loop, so a block's panels (512 KB at H = 512) stay in L2
/// while every row tile of the level streams past them; a thread given a range of blocks owns those hidden units.
/// </summary>
internal static unsafe class TreeLstmFused
{
    /// <summary>Hidden units per block: one micro-kernel panel width.</summary>
    public const int Block = 32;

    /// <summary>Rows per packed A tile: the micro-kernel's MR.</summary>
    public const int Rows = 8;

    /// <summary>True when the fused kernels can run: AVX-512 and its 8×32 kernel, and whole blocks.</summary>
    public static bool Supports(int hidden) =>
        GemmKernelSet.Avx512 is { } ks && ReferenceEquals(GemmKernelSet.Current, ks) && ks.RowTailKernel != null && hidden % Block == 0;

    /// <summary>Floats of an internal node's packed block: 32 columns × (H + 3·2H + H) depth.</summary>
    public static long NodePanels(int hd) => (long)Block * 8 * hd;

    /// <summary>Floats of a leaf's packed block: [i | o | u], 32 columns × H depth each.</summary>
    public static long LeafPanels(int hd) => (long)Block * 3 * hd;

    /// <summary>
    /// Gate pre-activations of 8 rows × one block into <paramref name="s"/> (row r, gate q at s + r·ldS + q·32):
    /// <paramref name="gates"/> panels, panel q over depth <paramref name="kc"/>[q] from A offset <paramref name="k0"/>[q].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(GemmKernelSet ks, int rows, float* a, float* b, int gates, int* k0, int* kc, float* s, int ldS)
    {
        var kernel = ks.Kernel;
        var tail = ks.RowTailKernel;
        for (int q = 0; q < gates; q++)
        {
            if (rows == Rows) kernel(a + (long)k0[q] * Rows, b, s + q * Block, ldS, kc[q], false, null);
            else tail(rows, a + (long)k0[q] * Rows, b, s + q * Block, ldS, kc[q], false, null);
            b += (long)kc[q] * Block;
        }
    }

    /// <summary>
    /// One level's rows [<paramref name="i0"/>, <paramref name="i1"/>) (i0 a multiple of 8) × blocks [<paramref name="b0"/>,
    /// <paramref name="b1"/>): GEMM and gates; row i reads its children's c at <paramref name="cl"/>[i] and
    /// <paramref name="cr"/>[i] and writes its own h and c at <paramref name="h"/>/<paramref name="c"/> + i·H.
    /// </summary>
    /// <param name="a">The level's packed rows [h_l; h_r] (depth 2H, <see cref="PackPairs"/>).</param>
    /// <param name="w">The packed blocks (<see cref="NodePanels"/> floats each).</param>
    /// <param name="bias">[b_f | b_i | b_o | b_u | b_f] per block of 32 units.</param>
    public static void Level(int hd, float* a, int i0, int i1, int b0, int b1, float* w, float* bias, float** cl, float** cr, float* h, float* c)
    {
        var ks = GemmKernelSet.Avx512!;
        const int gates = 5, ld = gates * Block;
        float* s = GemmScratch.ForThread.Extra(Rows * ld);
        int* k0 = stackalloc int[] { 0, 0, 0, 0, hd };
        int* kc = stackalloc int[] { hd, 2 * hd, 2 * hd, 2 * hd, hd };
        for (int blk = b0; blk < b1; blk++)
        {
            int j0 = blk * Block;
            float* wb = w + blk * NodePanels(hd), bb = bias + gates * j0;
            for (int t0 = i0; t0 < i1; t0 += Rows)
            {
                int rows = Math.Min(Rows, i1 - t0);
                Tile(ks, rows, a + (long)t0 * 2 * hd, wb, gates, k0, kc, s, ld);
                // The children's c are scattered rows, a likely L3 miss each: one row's gates (about 100 ns) ahead is
                // enough to hide it (2-3% of the forward at H = 512); prefetching a whole tile ahead was not.
                Prefetch(cl[t0] + j0, cr[t0] + j0);
                for (int r = 0; r < rows; r++)
                {
                    long o = (long)(t0 + r) * hd + j0;
                    if (r + 1 < rows)
                    {
                        Prefetch(cl[t0 + r + 1] + j0, cr[t0 + r + 1] + j0);
                        Prefetch(h + o + hd, c + o + hd);
                    }
                    TreeLstmGates.Node(Block, s + r * ld, bb, cl[t0 + r] + j0, cr[t0 + r] + j0, h + o, c + o);
                }
            }
        }
    }

    /// <summary>Into L1: the two 64-byte lines of a block (32 floats) at each of <paramref name="p"/> and <paramref name="q"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(float* p, float* q)
    {
        Sse.Prefetch0(p); Sse.Prefetch0(p + 16);
        Sse.Prefetch0(q); Sse.Prefetch0(q + 16);
    }

    /// <summary>
    /// Leaf rows [<paramref name="i0"/>, <paramref name="i1"/>) × blocks [<paramref name="b0"/>, <paramref name="b1"/>):
    /// GEMM against [W_i | W_o | W_u] and the leaf gates, (h, c) of row u at <paramref name="h"/>/<paramref name="c"/> + u·H.
    /// </summary>
    /// <param name="a">The leaves' packed embedding rows (depth H).</param>
    public static void Leaf(int hd, float* a, int i0, int i1, int b0, int b1, float* w, float* bias, float* h, float* c)
    {
        var ks = GemmKernelSet.Avx512!;
        const int gates = 3, ld = gates * Block;
        float* s = GemmScratch.ForThread.Extra(Rows * ld);
        int* k0 = stackalloc int[] { 0, 0, 0 };
        int* kc = stackalloc int[] { hd, hd, hd };
        for (int blk = b0; blk < b1; blk++)
        {
            int j0 = blk * Block;
            float* wb = w + blk * LeafPanels(hd), bb = bias + gates * j0;
            for (int t0 = i0; t0 < i1; t0 += Rows)
            {
                int rows = Math.Min(Rows, i1 - t0);
                Tile(ks, rows, a + (long)t0 * hd, wb, gates, k0, kc, s, ld);
                for (int r = 0; r < rows; r++)
                {
                    long o = (long)(t0 + r) * hd + j0;
                    TreeLstmGates.Leaf(Block, s + r * ld, bb, h + o, c + o);
                }
            }
        }
    }

    /// <summary>
    /// Rows [<paramref name="i0"/>, <paramref name="i1"/>) (i0 a multiple of 8) of A = [left[i]; right[i]] (H each, gathered
    /// through the pointers) into 8-row tiles <c>[k][8]</c> of depth 2H at <paramref name="packed"/> + i0·2H; a last partial
    /// tile is padded with zero rows. This is the only gather of the children's h: they stay where their own batch wrote them.
    /// </summary>
    public static void PackPairs(float** left, float** right, int i0, int i1, int hd, float* packed)
    {
        for (int t0 = i0; t0 < i1; t0 += Rows)
        {
            int rows = Math.Min(Rows, i1 - t0);
            float* dst = packed + (long)t0 * 2 * hd;
            new GemmRowsA(left).Pack(dst, t0, rows, 0, hd, Rows);
            new GemmRowsA(right).Pack(dst + (long)hd * Rows, t0, rows, 0, hd, Rows);
        }
    }
}
