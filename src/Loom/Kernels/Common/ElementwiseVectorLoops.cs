using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Common;

/// <summary>
/// The SIMD loops every vectorized elementwise kernel runs: a unary map and a binary zip over contiguous
/// spans, at the widest vector width the CPU accelerates (checked once per call; the JIT folds the
/// checks). A span shorter than that width uses the next narrower one, and one shorter than four lanes
/// the scalar form. The tail is one more full vector ending at the last element, read before anything
/// is stored so an in-place call (output the same memory as an input) stays correct.
/// </summary>
internal static class ElementwiseVectorLoops
{
    /// <summary>y[i] = op(x[i]); <paramref name="y"/> is at least as long as <paramref name="x"/>.</summary>
    public static void Map<TOp, T>(TOp op, ReadOnlySpan<T> x, Span<T> y) where TOp : struct, IVectorUnaryOp<T> where T : unmanaged
    {
        if (y.Length < x.Length) throw new ArgumentException("output shorter than input", nameof(y));
        ref T xs = ref MemoryMarshal.GetReference(x);
        ref T ys = ref MemoryMarshal.GetReference(y);
        nuint n = (nuint)x.Length;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported && n >= (nuint)Vector512<T>.Count) Map512(op, ref xs, ref ys, n);
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && n >= (nuint)Vector256<T>.Count) Map256(op, ref xs, ref ys, n);
        else if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported && n >= (nuint)Vector128<T>.Count) Map128(op, ref xs, ref ys, n);
        else for (nuint i = 0; i < n; i++) Unsafe.Add(ref ys, i) = op.Invoke(Unsafe.Add(ref xs, i));
    }

    /// <summary>z[i] = op(x[i], y[i]) over <paramref name="x"/>'s length.</summary>
    public static void Zip<TOp, T>(TOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z) where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
    {
        if (y.Length < x.Length || z.Length < x.Length) throw new ArgumentException("operands shorter than the first input");
        ref T xs = ref MemoryMarshal.GetReference(x);
        ref T ys = ref MemoryMarshal.GetReference(y);
        ref T zs = ref MemoryMarshal.GetReference(z);
        nuint n = (nuint)x.Length;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported && n >= (nuint)Vector512<T>.Count) Zip512(op, ref xs, ref ys, ref zs, n);
        else if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && n >= (nuint)Vector256<T>.Count) Zip256(op, ref xs, ref ys, ref zs, n);
        else if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported && n >= (nuint)Vector128<T>.Count) Zip128(op, ref xs, ref ys, ref zs, n);
        else for (nuint i = 0; i < n; i++) Unsafe.Add(ref zs, i) = op.Invoke(Unsafe.Add(ref xs, i), Unsafe.Add(ref ys, i));
    }

    /// <summary>
    /// One broadcast row: <paramref name="length"/> outputs where each input advances by one element
    /// (stride 1) or repeats its first (stride 0).
    /// </summary>
    public static void ZipRow<TOp, T>(TOp op, ReadOnlySpan<T> x, int strideX, ReadOnlySpan<T> y, int strideY, Span<T> z, int length)
        where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
    {
        if (strideX == 1 && strideY == 1) Zip(op, x[..length], y, z);
        else if (strideX == 1) Map(new VectorOps.BindRight<TOp, T>(op, y[0]), x[..length], z);
        else if (strideY == 1) Map(new VectorOps.BindLeft<TOp, T>(op, x[0]), y[..length], z);
        else z[..length].Fill(op.Invoke(x[0], y[0]));
    }

    // One copy per width: Vector512/256/128 share no generic vector interface the JIT can specialise on.

    private static void Map512<TOp, T>(TOp op, ref T x, ref T y, nuint n) where TOp : struct, IVectorUnaryOp<T> where T : unmanaged
    {
        nuint c = (nuint)Vector512<T>.Count, i = 0;
        var last = Vector512.LoadUnsafe(ref x, n - c);
        for (; i + 4 * c <= n; i += 4 * c)
        {
            var a = Vector512.LoadUnsafe(ref x, i);
            var b = Vector512.LoadUnsafe(ref x, i + c);
            var d = Vector512.LoadUnsafe(ref x, i + 2 * c);
            var e = Vector512.LoadUnsafe(ref x, i + 3 * c);
            op.Invoke(a).StoreUnsafe(ref y, i);
            op.Invoke(b).StoreUnsafe(ref y, i + c);
            op.Invoke(d).StoreUnsafe(ref y, i + 2 * c);
            op.Invoke(e).StoreUnsafe(ref y, i + 3 * c);
        }
        for (; i + c <= n; i += c) op.Invoke(Vector512.LoadUnsafe(ref x, i)).StoreUnsafe(ref y, i);
        if (i < n) op.Invoke(last).StoreUnsafe(ref y, n - c);
    }

    private static void Map256<TOp, T>(TOp op, ref T x, ref T y, nuint n) where TOp : struct, IVectorUnaryOp<T> where T : unmanaged
    {
        nuint c = (nuint)Vector256<T>.Count, i = 0;
        var last = Vector256.LoadUnsafe(ref x, n - c);
        for (; i + 4 * c <= n; i += 4 * c)
        {
            var a = Vector256.LoadUnsafe(ref x, i);
            var b = Vector256.LoadUnsafe(ref x, i + c);
            var d = Vector256.LoadUnsafe(ref x, i + 2 * c);
            var e = Vector256.LoadUnsafe(ref x, i + 3 * c);
            op.Invoke(a).StoreUnsafe(ref y, i);
            op.Invoke(b).StoreUnsafe(ref y, i + c);
            op.Invoke(d).StoreUnsafe(ref y, i + 2 * c);
            op.Invoke(e).StoreUnsafe(ref y, i + 3 * c);
        }
        for (; i + c <= n; i += c) op.Invoke(Vector256.LoadUnsafe(ref x, i)).StoreUnsafe(ref y, i);
        if (i < n) op.Invoke(last).StoreUnsafe(ref y, n - c);
    }

    private static void Map128<TOp, T>(TOp op, ref T x, ref T y, nuint n) where TOp : struct, IVectorUnaryOp<T> where T : unmanaged
    {
        nuint c = (nuint)Vector128<T>.Count, i = 0;
        var last = Vector128.LoadUnsafe(ref x, n - c);
        for (; i + 4 * c <= n; i += 4 * c)
        {
            var a = Vector128.LoadUnsafe(ref x, i);
            var b = Vector128.LoadUnsafe(ref x, i + c);
            var d = Vector128.LoadUnsafe(ref x, i + 2 * c);
            var e = Vector128.LoadUnsafe(ref x, i + 3 * c);
            op.Invoke(a).StoreUnsafe(ref y, i);
            op.Invoke(b).StoreUnsafe(ref y, i + c);
            op.Invoke(d).StoreUnsafe(ref y, i + 2 * c);
            op.Invoke(e).StoreUnsafe(ref y, i + 3 * c);
        }
        for (; i + c <= n; i += c) op.Invoke(Vector128.LoadUnsafe(ref x, i)).StoreUnsafe(ref y, i);
        if (i < n) op.Invoke(last).StoreUnsafe(ref y, n - c);
    }

    private static void Zip512<TOp, T>(TOp op, ref T x, ref T y, ref T z, nuint n) where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
    {
        nuint c = (nuint)Vector512<T>.Count, i = 0;
        var lastX = Vector512.LoadUnsafe(ref x, n - c);
        var lastY = Vector512.LoadUnsafe(ref y, n - c);
        for (; i + 2 * c <= n; i += 2 * c)
        {
            var a = op.Invoke(Vector512.LoadUnsafe(ref x, i), Vector512.LoadUnsafe(ref y, i));
            var b = op.Invoke(Vector512.LoadUnsafe(ref x, i + c), Vector512.LoadUnsafe(ref y, i + c));
            a.StoreUnsafe(ref z, i);
            b.StoreUnsafe(ref z, i + c);
        }
        for (; i + c <= n; i += c) op.Invoke(Vector512.LoadUnsafe(ref x, i), Vector512.LoadUnsafe(ref y, i)).StoreUnsafe(ref z, i);
        if (i < n) op.Invoke(lastX, lastY).StoreUnsafe(ref z, n - c);
    }

    private static void Zip256<TOp, T>(TOp op, ref T x, ref T y, ref T z, nuint n) where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
    {
        nuint c = (nuint)Vector256<T>.Count, i = 0;
        var lastX = Vector256.LoadUnsafe(ref x, n - c);
        var lastY = Vector256.LoadUnsafe(ref y, n - c);
        for (; i + 2 * c <= n; i += 2 * c)
        {
            var a = op.Invoke(Vector256.LoadUnsafe(ref x, i), Vector256.LoadUnsafe(ref y, i));
            var b = op.Invoke(Vector256.LoadUnsafe(ref x, i + c), Vector256.LoadUnsafe(ref y, i + c));
            a.StoreUnsafe(ref z, i);
            b.StoreUnsafe(ref z, i + c);
        }
        for (; i + c <= n; i += c) op.Invoke(Vector256.LoadUnsafe(ref x, i), Vector256.LoadUnsafe(ref y, i)).StoreUnsafe(ref z, i);
        if (i < n) op.Invoke(lastX, lastY).StoreUnsafe(ref z, n - c);
    }

    private static void Zip128<TOp, T>(TOp op, ref T x, ref T y, ref T z, nuint n) where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
    {
        nuint c = (nuint)Vector128<T>.Count, i = 0;
        var lastX = Vector128.LoadUnsafe(ref x, n - c);
        var lastY = Vector128.LoadUnsafe(ref y, n - c);
        for (; i + 2 * c <= n; i += 2 * c)
        {
            var a = op.Invoke(Vector128.LoadUnsafe(ref x, i), Vector128.LoadUnsafe(ref y, i));
            var b = op.Invoke(Vector128.LoadUnsafe(ref x, i + c), Vector128.LoadUnsafe(ref y, i + c));
            a.StoreUnsafe(ref z, i);
            b.StoreUnsafe(ref z, i + c);
        }
        for (; i + c <= n; i += c) op.Invoke(Vector128.LoadUnsafe(ref x, i), Vector128.LoadUnsafe(ref y, i)).StoreUnsafe(ref z, i);
        if (i < n) op.Invoke(lastX, lastY).StoreUnsafe(ref z, n - c);
    }
}
