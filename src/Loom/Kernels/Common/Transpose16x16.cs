using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// A 16×16 float transpose in AVX-512 registers: row i of the result is element i of each of the sixteen inputs.
/// Four rounds of sixteen shuffles (pairs, then quads within each 128-bit lane, then the lanes twice); exact.
/// </summary>
internal static class Transpose16x16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(ref Vector512<float> r0, ref Vector512<float> r1, ref Vector512<float> r2, ref Vector512<float> r3,
        ref Vector512<float> r4, ref Vector512<float> r5, ref Vector512<float> r6, ref Vector512<float> r7,
        ref Vector512<float> r8, ref Vector512<float> r9, ref Vector512<float> r10, ref Vector512<float> r11,
        ref Vector512<float> r12, ref Vector512<float> r13, ref Vector512<float> r14, ref Vector512<float> r15)
    {
        // Quad q of every lane: column 4q + j of four rows, for j = 0..3 (u0..u3 rows 0–3, u4..u7 rows 4–7, ...).
        Quads(r0, r1, r2, r3, out var u0, out var u1, out var u2, out var u3);
        Quads(r4, r5, r6, r7, out var u4, out var u5, out var u6, out var u7);
        Quads(r8, r9, r10, r11, out var u8, out var u9, out var u10, out var u11);
        Quads(r12, r13, r14, r15, out var u12, out var u13, out var u14, out var u15);
        Lanes(u0, u4, u8, u12, out r0, out r4, out r8, out r12);
        Lanes(u1, u5, u9, u13, out r1, out r5, out r9, out r13);
        Lanes(u2, u6, u10, u14, out r2, out r6, out r10, out r14);
        Lanes(u3, u7, u11, u15, out r3, out r7, out r11, out r15);
    }

    /// <summary>Within each 128-bit lane q of four rows a..d: c0 = (a, b, c, d)[4q], c1 = [4q + 1], c2 = [4q + 2], c3 = [4q + 3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quads(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d,
        out Vector512<float> c0, out Vector512<float> c1, out Vector512<float> c2, out Vector512<float> c3)
    {
        var ab0 = Avx512F.UnpackLow(a, b).AsDouble();
        var ab1 = Avx512F.UnpackHigh(a, b).AsDouble();
        var cd0 = Avx512F.UnpackLow(c, d).AsDouble();
        var cd1 = Avx512F.UnpackHigh(c, d).AsDouble();
        c0 = Avx512F.UnpackLow(ab0, cd0).AsSingle();
        c1 = Avx512F.UnpackHigh(ab0, cd0).AsSingle();
        c2 = Avx512F.UnpackLow(ab1, cd1).AsSingle();
        c3 = Avx512F.UnpackHigh(ab1, cd1).AsSingle();
    }

    /// <summary>
    /// Lane q of a, b, c, d (the same quad column of rows 0–3, 4–7, 8–11, 12–15) gathered into one vector: column j from
    /// lanes 0, column 4 + j from lanes 1, 8 + j from lanes 2, 12 + j from lanes 3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lanes(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d,
        out Vector512<float> l0, out Vector512<float> l1, out Vector512<float> l2, out Vector512<float> l3)
    {
        var ab02 = Avx512F.Shuffle4x128(a, b, 0x88); // a.0, a.2, b.0, b.2
        var ab13 = Avx512F.Shuffle4x128(a, b, 0xDD); // a.1, a.3, b.1, b.3
        var cd02 = Avx512F.Shuffle4x128(c, d, 0x88);
        var cd13 = Avx512F.Shuffle4x128(c, d, 0xDD);
        l0 = Avx512F.Shuffle4x128(ab02, cd02, 0x88);
        l2 = Avx512F.Shuffle4x128(ab02, cd02, 0xDD);
        l1 = Avx512F.Shuffle4x128(ab13, cd13, 0x88);
        l3 = Avx512F.Shuffle4x128(ab13, cd13, 0xDD);
    }
}
