using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// The last, partial column panel of a <see cref="ConvWideGemm"/> product with AVX-512, computed with the output channels as
/// the vector lanes: 16 rows (two adjacent 8-row full-depth A panels, one 256-bit half each) or 8 rows (one panel), one
/// accumulator per real column, each B value broadcast. Per depth step that is c FMAs for 16 rows where the 8×32 and 8×16
/// tiles spend 16 or 8 per 8 rows whatever c is: SqueezeNet's 13×13 layers have 169 = 5·32 + 9 columns, ResNet-50's 14×14
/// 196 = 6·32 + 4 and its 7×7 49 = 32 + 17. B is read from the image itself (only the c real columns of each row), so the
/// panel is not packed either. Every output is the same chain of FMAs over k ascending from zero as in the tile kernels,
/// then the same epilogue (<see cref="TileFinish512"/>):
/// the same bits. The block is stored column-major (column j's 16 rows at <c>dst + 16·j</c>) for the caller's scatter.
/// </summary>
internal static unsafe class ConvWideColumnTail
{
    /// <summary>Columns one call computes; wider tails (17–31 columns) take two.</summary>
    public const int MaxColumns = 16;

    /// <summary>Floats between the stored columns.</summary>
    public const int ColumnStride = 16;

    /// <summary>Whether this kernel set's last panel goes here (the 8×32 AVX-512 set, whose A panels are 8 rows).</summary>
    public static bool Supports(GemmKernelSet ks) => ks.Is512 && ks.MR == 8;

    /// <summary>
    /// Rows [0, 16) (<paramref name="a1"/> non-null: <paramref name="a0"/> the first 8 rows' panel, <paramref name="a1"/> the next 8's)
    /// or [0, 8) × <paramref name="cols"/> columns starting at <paramref name="b"/> (B row p at <c>b + offsets[p]</c>). The epilogue's
    /// Bias, if any, covers every row; its Residual must be null.
    /// </summary>
    public static void Compute(int cols, float* a0, float* a1, float* b, int* offsets, int k, float* dst, GemmTileEpilogue* ep)
    {
        for (int c0 = 0; c0 < cols; c0 += MaxColumns)
        {
            int n = Math.Min(MaxColumns, cols - c0);
            if (a1 != null) Wide(n, a0, a1, b + c0, offsets, k, dst + c0 * ColumnStride, ep);
            else Narrow(n, a0, null, b + c0, offsets, k, dst + c0 * ColumnStride, ep);
        }
    }

    private static void Wide(int cols, float* a0, float* a1, float* b, int* offsets, int k, float* dst, GemmTileEpilogue* ep)
    {
        switch (cols)
        {
            case 1: Lanes16<C1>(a0, a1, b, offsets, k, dst, ep); break;
            case 2: Lanes16<C2>(a0, a1, b, offsets, k, dst, ep); break;
            case 3: Lanes16<C3>(a0, a1, b, offsets, k, dst, ep); break;
            case 4: Lanes16<C4>(a0, a1, b, offsets, k, dst, ep); break;
            case 5: Lanes16<C5>(a0, a1, b, offsets, k, dst, ep); break;
            case 6: Lanes16<C6>(a0, a1, b, offsets, k, dst, ep); break;
            case 7: Lanes16<C7>(a0, a1, b, offsets, k, dst, ep); break;
            case 8: Lanes16<C8>(a0, a1, b, offsets, k, dst, ep); break;
            case 9: Lanes16<C9>(a0, a1, b, offsets, k, dst, ep); break;
            case 10: Lanes16<C10>(a0, a1, b, offsets, k, dst, ep); break;
            case 11: Lanes16<C11>(a0, a1, b, offsets, k, dst, ep); break;
            case 12: Lanes16<C12>(a0, a1, b, offsets, k, dst, ep); break;
            case 13: Lanes16<C13>(a0, a1, b, offsets, k, dst, ep); break;
            case 14: Lanes16<C14>(a0, a1, b, offsets, k, dst, ep); break;
            case 15: Lanes16<C15>(a0, a1, b, offsets, k, dst, ep); break;
            case 16: Lanes16<C16>(a0, a1, b, offsets, k, dst, ep); break;
        }
    }

    private static void Narrow(int cols, float* a0, float* a1, float* b, int* offsets, int k, float* dst, GemmTileEpilogue* ep)
    {
        switch (cols)
        {
            case 1: Lanes8<C1>(a0, a1, b, offsets, k, dst, ep); break;
            case 2: Lanes8<C2>(a0, a1, b, offsets, k, dst, ep); break;
            case 3: Lanes8<C3>(a0, a1, b, offsets, k, dst, ep); break;
            case 4: Lanes8<C4>(a0, a1, b, offsets, k, dst, ep); break;
            case 5: Lanes8<C5>(a0, a1, b, offsets, k, dst, ep); break;
            case 6: Lanes8<C6>(a0, a1, b, offsets, k, dst, ep); break;
            case 7: Lanes8<C7>(a0, a1, b, offsets, k, dst, ep); break;
            case 8: Lanes8<C8>(a0, a1, b, offsets, k, dst, ep); break;
            case 9: Lanes8<C9>(a0, a1, b, offsets, k, dst, ep); break;
            case 10: Lanes8<C10>(a0, a1, b, offsets, k, dst, ep); break;
            case 11: Lanes8<C11>(a0, a1, b, offsets, k, dst, ep); break;
            case 12: Lanes8<C12>(a0, a1, b, offsets, k, dst, ep); break;
            case 13: Lanes8<C13>(a0, a1, b, offsets, k, dst, ep); break;
            case 14: Lanes8<C14>(a0, a1, b, offsets, k, dst, ep); break;
            case 15: Lanes8<C15>(a0, a1, b, offsets, k, dst, ep); break;
            case 16: Lanes8<C16>(a0, a1, b, offsets, k, dst, ep); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Lanes16<TCols>(float* a0, float* a1, float* b, int* offsets, int k, float* dst, GemmTileEpilogue* ep) where TCols : struct, IColumnCount
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + offsets[p];
            var av = Vector512.Create(Vector256.Load(a0), Vector256.Load(a1));
            a0 += 8; a1 += 8;
            c0 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[0]), c0);
            if (TCols.N > 1) c1 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[1]), c1);
            if (TCols.N > 2) c2 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[2]), c2);
            if (TCols.N > 3) c3 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[3]), c3);
            if (TCols.N > 4) c4 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[4]), c4);
            if (TCols.N > 5) c5 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[5]), c5);
            if (TCols.N > 6) c6 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[6]), c6);
            if (TCols.N > 7) c7 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[7]), c7);
            if (TCols.N > 8) c8 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[8]), c8);
            if (TCols.N > 9) c9 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[9]), c9);
            if (TCols.N > 10) c10 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[10]), c10);
            if (TCols.N > 11) c11 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[11]), c11);
            if (TCols.N > 12) c12 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[12]), c12);
            if (TCols.N > 13) c13 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[13]), c13);
            if (TCols.N > 14) c14 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[14]), c14);
            if (TCols.N > 15) c15 = Avx512F.FusedMultiplyAdd(av, Vector512.Create(bp[15]), c15);
        }
        if (ep != null)
        {
            var bias = ep->Bias != null ? Vector512.Load(ep->Bias) : Vector512<float>.Zero;
            bool addBias = ep->Bias != null;
            var f = new TileFinish512(ep);
            c0 = f.Activate(addBias ? c0 + bias : c0);
            if (TCols.N > 1) c1 = f.Activate(addBias ? c1 + bias : c1);
            if (TCols.N > 2) c2 = f.Activate(addBias ? c2 + bias : c2);
            if (TCols.N > 3) c3 = f.Activate(addBias ? c3 + bias : c3);
            if (TCols.N > 4) c4 = f.Activate(addBias ? c4 + bias : c4);
            if (TCols.N > 5) c5 = f.Activate(addBias ? c5 + bias : c5);
            if (TCols.N > 6) c6 = f.Activate(addBias ? c6 + bias : c6);
            if (TCols.N > 7) c7 = f.Activate(addBias ? c7 + bias : c7);
            if (TCols.N > 8) c8 = f.Activate(addBias ? c8 + bias : c8);
            if (TCols.N > 9) c9 = f.Activate(addBias ? c9 + bias : c9);
            if (TCols.N > 10) c10 = f.Activate(addBias ? c10 + bias : c10);
            if (TCols.N > 11) c11 = f.Activate(addBias ? c11 + bias : c11);
            if (TCols.N > 12) c12 = f.Activate(addBias ? c12 + bias : c12);
            if (TCols.N > 13) c13 = f.Activate(addBias ? c13 + bias : c13);
            if (TCols.N > 14) c14 = f.Activate(addBias ? c14 + bias : c14);
            if (TCols.N > 15) c15 = f.Activate(addBias ? c15 + bias : c15);
        }
        c0.Store(dst + 0);
        if (TCols.N > 1) c1.Store(dst + 16);
        if (TCols.N > 2) c2.Store(dst + 32);
        if (TCols.N > 3) c3.Store(dst + 48);
        if (TCols.N > 4) c4.Store(dst + 64);
        if (TCols.N > 5) c5.Store(dst + 80);
        if (TCols.N > 6) c6.Store(dst + 96);
        if (TCols.N > 7) c7.Store(dst + 112);
        if (TCols.N > 8) c8.Store(dst + 128);
        if (TCols.N > 9) c9.Store(dst + 144);
        if (TCols.N > 10) c10.Store(dst + 160);
        if (TCols.N > 11) c11.Store(dst + 176);
        if (TCols.N > 12) c12.Store(dst + 192);
        if (TCols.N > 13) c13.Store(dst + 208);
        if (TCols.N > 14) c14.Store(dst + 224);
        if (TCols.N > 15) c15.Store(dst + 240);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Lanes8<TCols>(float* a0, float* a1, float* b, int* offsets, int k, float* dst, GemmTileEpilogue* ep) where TCols : struct, IColumnCount
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector256<float> c8 = default, c9 = default, c10 = default, c11 = default, c12 = default, c13 = default, c14 = default, c15 = default;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + offsets[p];
            var av = Vector256.Load(a0);
            a0 += 8;
            c0 = Fma.MultiplyAdd(av, Vector256.Create(bp[0]), c0);
            if (TCols.N > 1) c1 = Fma.MultiplyAdd(av, Vector256.Create(bp[1]), c1);
            if (TCols.N > 2) c2 = Fma.MultiplyAdd(av, Vector256.Create(bp[2]), c2);
            if (TCols.N > 3) c3 = Fma.MultiplyAdd(av, Vector256.Create(bp[3]), c3);
            if (TCols.N > 4) c4 = Fma.MultiplyAdd(av, Vector256.Create(bp[4]), c4);
            if (TCols.N > 5) c5 = Fma.MultiplyAdd(av, Vector256.Create(bp[5]), c5);
            if (TCols.N > 6) c6 = Fma.MultiplyAdd(av, Vector256.Create(bp[6]), c6);
            if (TCols.N > 7) c7 = Fma.MultiplyAdd(av, Vector256.Create(bp[7]), c7);
            if (TCols.N > 8) c8 = Fma.MultiplyAdd(av, Vector256.Create(bp[8]), c8);
            if (TCols.N > 9) c9 = Fma.MultiplyAdd(av, Vector256.Create(bp[9]), c9);
            if (TCols.N > 10) c10 = Fma.MultiplyAdd(av, Vector256.Create(bp[10]), c10);
            if (TCols.N > 11) c11 = Fma.MultiplyAdd(av, Vector256.Create(bp[11]), c11);
            if (TCols.N > 12) c12 = Fma.MultiplyAdd(av, Vector256.Create(bp[12]), c12);
            if (TCols.N > 13) c13 = Fma.MultiplyAdd(av, Vector256.Create(bp[13]), c13);
            if (TCols.N > 14) c14 = Fma.MultiplyAdd(av, Vector256.Create(bp[14]), c14);
            if (TCols.N > 15) c15 = Fma.MultiplyAdd(av, Vector256.Create(bp[15]), c15);
        }
        if (ep != null)
        {
            var bias = ep->Bias != null ? Vector256.Load(ep->Bias) : Vector256<float>.Zero;
            bool addBias = ep->Bias != null;
            var f = new TileFinish256(ep);
            c0 = f.Activate(addBias ? c0 + bias : c0);
            if (TCols.N > 1) c1 = f.Activate(addBias ? c1 + bias : c1);
            if (TCols.N > 2) c2 = f.Activate(addBias ? c2 + bias : c2);
            if (TCols.N > 3) c3 = f.Activate(addBias ? c3 + bias : c3);
            if (TCols.N > 4) c4 = f.Activate(addBias ? c4 + bias : c4);
            if (TCols.N > 5) c5 = f.Activate(addBias ? c5 + bias : c5);
            if (TCols.N > 6) c6 = f.Activate(addBias ? c6 + bias : c6);
            if (TCols.N > 7) c7 = f.Activate(addBias ? c7 + bias : c7);
            if (TCols.N > 8) c8 = f.Activate(addBias ? c8 + bias : c8);
            if (TCols.N > 9) c9 = f.Activate(addBias ? c9 + bias : c9);
            if (TCols.N > 10) c10 = f.Activate(addBias ? c10 + bias : c10);
            if (TCols.N > 11) c11 = f.Activate(addBias ? c11 + bias : c11);
            if (TCols.N > 12) c12 = f.Activate(addBias ? c12 + bias : c12);
            if (TCols.N > 13) c13 = f.Activate(addBias ? c13 + bias : c13);
            if (TCols.N > 14) c14 = f.Activate(addBias ? c14 + bias : c14);
            if (TCols.N > 15) c15 = f.Activate(addBias ? c15 + bias : c15);
        }
        c0.Store(dst + 0);
        if (TCols.N > 1) c1.Store(dst + 16);
        if (TCols.N > 2) c2.Store(dst + 32);
        if (TCols.N > 3) c3.Store(dst + 48);
        if (TCols.N > 4) c4.Store(dst + 64);
        if (TCols.N > 5) c5.Store(dst + 80);
        if (TCols.N > 6) c6.Store(dst + 96);
        if (TCols.N > 7) c7.Store(dst + 112);
        if (TCols.N > 8) c8.Store(dst + 128);
        if (TCols.N > 9) c9.Store(dst + 144);
        if (TCols.N > 10) c10.Store(dst + 160);
        if (TCols.N > 11) c11.Store(dst + 176);
        if (TCols.N > 12) c12.Store(dst + 192);
        if (TCols.N > 13) c13.Store(dst + 208);
        if (TCols.N > 14) c14.Store(dst + 224);
        if (TCols.N > 15) c15.Store(dst + 240);
    }

    internal interface IColumnCount
    {
        static abstract int N { get; }
    }

    private struct C1 : IColumnCount { public static int N => 1; }
    private struct C2 : IColumnCount { public static int N => 2; }
    private struct C3 : IColumnCount { public static int N => 3; }
    private struct C4 : IColumnCount { public static int N => 4; }
    private struct C5 : IColumnCount { public static int N => 5; }
    private struct C6 : IColumnCount { public static int N => 6; }
    private struct C7 : IColumnCount { public static int N => 7; }
    private struct C8 : IColumnCount { public static int N => 8; }
    private struct C9 : IColumnCount { public static int N => 9; }
    private struct C10 : IColumnCount { public static int N => 10; }
    private struct C11 : IColumnCount { public static int N => 11; }
    private struct C12 : IColumnCount { public static int N => 12; }
    private struct C13 : IColumnCount { public static int N => 13; }
    private struct C14 : IColumnCount { public static int N => 14; }
    private struct C15 : IColumnCount { public static int N => 15; }
    private struct C16 : IColumnCount { public static int N => 16; }
}
