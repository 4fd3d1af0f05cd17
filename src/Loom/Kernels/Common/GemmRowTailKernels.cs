using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>A row count known when the JIT specializes a generic micro-kernel for it.</summary>
internal interface IGemmRows
{
    static abstract int Rows { get; }
}

internal struct Rows1 : IGemmRows { public static int Rows => 1; }
internal struct Rows2 : IGemmRows { public static int Rows => 2; }
internal struct Rows3 : IGemmRows { public static int Rows => 3; }
internal struct Rows4 : IGemmRows { public static int Rows => 4; }
internal struct Rows5 : IGemmRows { public static int Rows => 5; }
internal struct Rows6 : IGemmRows { public static int Rows => 6; }
internal struct Rows7 : IGemmRows { public static int Rows => 7; }

/// <summary>
/// AVX-512 micro-kernels for the last, partial row tile of a product (rows &lt; MR = 8, all 32 columns), reading
/// the same packed panels as <see cref="GemmMicroKernels.Avx512x8x32"/> (A stride 8) and storing straight into C.
/// Without them a 1-row tail costs a whole 8-row tile: 49 positions (7×7) would compute 56 rows, 12% waste on
/// the transposed convolutions of <see cref="ConvFewPositions"/>. One generic body, specialized per row count, so
/// each instantiation is call-free with only its own accumulators (the <c>TR.Rows</c> tests are constants).
/// </summary>
internal static unsafe class GemmRowTailKernels
{
    /// <summary>Dispatches to the instantiation for <paramref name="rows"/> (1..7).</summary>
    public static void Avx512(int rows, float* a, float* b, float* c, nint ldc, int kc, bool accumulate, GemmTileEpilogue* ep)
    {
        switch (rows)
        {
            case 1: Avx512x32<Rows1>(a, b, c, ldc, kc, accumulate, ep); break;
            case 2: Avx512x32<Rows2>(a, b, c, ldc, kc, accumulate, ep); break;
            case 3: Avx512x32<Rows3>(a, b, c, ldc, kc, accumulate, ep); break;
            case 4: Avx512x32<Rows4>(a, b, c, ldc, kc, accumulate, ep); break;
            case 5: Avx512x32<Rows5>(a, b, c, ldc, kc, accumulate, ep); break;
            case 6: Avx512x32<Rows6>(a, b, c, ldc, kc, accumulate, ep); break;
            case 7: Avx512x32<Rows7>(a, b, c, ldc, kc, accumulate, ep); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx512x32<TR>(float* a, float* b, float* c, nint ldc, int kc, bool accumulate, GemmTileEpilogue* ep)
        where TR : struct, IGemmRows
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00); c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
            if (TR.Rows > 1) { av = Vector512.Create(a[1]); c10 = Avx512F.FusedMultiplyAdd(av, b0, c10); c11 = Avx512F.FusedMultiplyAdd(av, b1, c11); }
            if (TR.Rows > 2) { av = Vector512.Create(a[2]); c20 = Avx512F.FusedMultiplyAdd(av, b0, c20); c21 = Avx512F.FusedMultiplyAdd(av, b1, c21); }
            if (TR.Rows > 3) { av = Vector512.Create(a[3]); c30 = Avx512F.FusedMultiplyAdd(av, b0, c30); c31 = Avx512F.FusedMultiplyAdd(av, b1, c31); }
            if (TR.Rows > 4) { av = Vector512.Create(a[4]); c40 = Avx512F.FusedMultiplyAdd(av, b0, c40); c41 = Avx512F.FusedMultiplyAdd(av, b1, c41); }
            if (TR.Rows > 5) { av = Vector512.Create(a[5]); c50 = Avx512F.FusedMultiplyAdd(av, b0, c50); c51 = Avx512F.FusedMultiplyAdd(av, b1, c51); }
            if (TR.Rows > 6) { av = Vector512.Create(a[6]); c60 = Avx512F.FusedMultiplyAdd(av, b0, c60); c61 = Avx512F.FusedMultiplyAdd(av, b1, c61); }
            a += 8;
            b += 32;
        }
        if (accumulate)
        {
            c00 += Vector512.Load(c); c01 += Vector512.Load(c + 16);
            if (TR.Rows > 1) { c10 += Vector512.Load(c + ldc); c11 += Vector512.Load(c + ldc + 16); }
            if (TR.Rows > 2) { c20 += Vector512.Load(c + 2 * ldc); c21 += Vector512.Load(c + 2 * ldc + 16); }
            if (TR.Rows > 3) { c30 += Vector512.Load(c + 3 * ldc); c31 += Vector512.Load(c + 3 * ldc + 16); }
            if (TR.Rows > 4) { c40 += Vector512.Load(c + 4 * ldc); c41 += Vector512.Load(c + 4 * ldc + 16); }
            if (TR.Rows > 5) { c50 += Vector512.Load(c + 5 * ldc); c51 += Vector512.Load(c + 5 * ldc + 16); }
            if (TR.Rows > 6) { c60 += Vector512.Load(c + 6 * ldc); c61 += Vector512.Load(c + 6 * ldc + 16); }
        }
        if (ep != null)
        {
            var f = new TileFinish512(ep);
            c00 = f.At(c00, 0, 0);
            c01 = f.At(c01, 0, 16);
            if (TR.Rows > 1)
            {
                c10 = f.At(c10, 1, 0);
                c11 = f.At(c11, 1, 16);
            }
            if (TR.Rows > 2)
            {
                c20 = f.At(c20, 2, 0);
                c21 = f.At(c21, 2, 16);
            }
            if (TR.Rows > 3)
            {
                c30 = f.At(c30, 3, 0);
                c31 = f.At(c31, 3, 16);
            }
            if (TR.Rows > 4)
            {
                c40 = f.At(c40, 4, 0);
                c41 = f.At(c41, 4, 16);
            }
            if (TR.Rows > 5)
            {
                c50 = f.At(c50, 5, 0);
                c51 = f.At(c51, 5, 16);
            }
            if (TR.Rows > 6)
            {
                c60 = f.At(c60, 6, 0);
                c61 = f.At(c61, 6, 16);
            }
        }
        c00.Store(c); c01.Store(c + 16);
        if (TR.Rows > 1) { c10.Store(c + ldc); c11.Store(c + ldc + 16); }
        if (TR.Rows > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 16); }
        if (TR.Rows > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 16); }
        if (TR.Rows > 4) { c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 16); }
        if (TR.Rows > 5) { c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 16); }
        if (TR.Rows > 6) { c60.Store(c + 6 * ldc); c61.Store(c + 6 * ldc + 16); }
    }
}
