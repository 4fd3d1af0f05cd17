using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// Stores a finished <see cref="ConvWideGemm"/> tile whose NR wide columns run from the end of one output row into the
/// start of the next: lanes [0, <c>first</c>) end the row, lanes [<c>next</c>, NR) start the next one, and the dropped lanes
/// between them go nowhere. Where the wide rows are a few columns wider than the output (a 3×3 stride-2 stem: 112 for 111,
/// so 2 tiles in 7 cross a row end), the scalar scatter of these tiles cost 4% of the layer. With AVX-512 each tile row is
/// compressed by two permutes into consecutive outputs and stored with one full and one masked store; with AVX, masked
/// stores put each part in place. Masked stores write no element outside their lanes (the neighbours may be another
/// thread's) and never fault on masked-off lanes. The values are the tile's as computed: only the copy differs.
/// </summary>
internal static unsafe class ConvWideSplitTile
{
    /// <summary>Whether this kernel set's tiles can be stored so (rows of 32 with AVX-512, of 16 or 32 with AVX).</summary>
    public static bool Supports(GemmKernelSet ks) =>
        ks.IsAvx2OrBetter && (ks.NR == 32 && Avx512F.IsSupported || ks.NR % 8 == 0 && Avx.IsSupported);

    /// <param name="tile">MR rows of NR floats (row stride NR).</param>
    /// <param name="start">Where lane <paramref name="next"/> goes: the next row's first output. Lanes [0, <paramref name="first"/>)
    /// (the end of the row before) go to the <paramref name="first"/> floats before it.</param>
    /// <param name="ldc">Floats between output channels.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Store(float* tile, int mr, int nr, int first, float* start, int next, nint ldc)
    {
        // Lane l goes to end + l below first and to shifted + l from next on.
        float* end = start - first, shifted = start - next;
        if (nr == 32 && Avx512F.IsSupported)
        {
            // The kept lanes, compressed: output L is tile lane L below first, else L + (next − first); the count − 16 past the
            // first 16 go with one masked store.
            int count = first + nr - next, gap = next - first;
            var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            var idx0 = lane + (Vector512.LessThan(lane, Vector512.Create(first)) & Vector512.Create(-gap)) + Vector512.Create(gap);
            var lane1 = lane + Vector512.Create(16);
            var idx1 = lane1 + (Vector512.LessThan(lane1, Vector512.Create(first)) & Vector512.Create(-gap)) + Vector512.Create(gap);
            var tail = Vector512.LessThan(lane, Vector512.Create(count - 16)).AsSingle();
            var head = Vector512.LessThan(lane, Vector512.Create(count)).AsSingle();
            float* dst = end;
            for (int r = 0; r < mr; r++, tile += 32)
            {
                var v0 = Vector512.Load(tile);
                var v1 = Vector512.Load(tile + 16);
                var o0 = Avx512F.PermuteVar16x32x2(v0, idx0, v1);
                long o = r * ldc;
                if (count >= 16)
                {
                    o0.Store(dst + o);
                    Avx512F.MaskStore(dst + o + 16, tail, Avx512F.PermuteVar16x32x2(v0, idx1, v1));
                }
                else Avx512F.MaskStore(dst + o, head, o0);
            }
            return;
        }
        var lane8 = Vector256.Create(0f, 1, 2, 3, 4, 5, 6, 7);
        for (int q = 0; q < nr; q += 8)
        {
            var lo = Vector256.LessThan(lane8, Vector256.Create((float)(first - q)));
            var hi = Vector256.GreaterThanOrEqual(lane8, Vector256.Create((float)(next - q)));
            float* src = tile + q;
            for (int r = 0; r < mr; r++, src += nr)
            {
                var v = Vector256.Load(src);
                long o = r * ldc + q;
                Avx.MaskStore(end + o, lo, v);
                Avx.MaskStore(shifted + o, hi, v);
            }
        }
    }
}
