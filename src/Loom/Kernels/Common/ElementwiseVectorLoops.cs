using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Common;

/// <summary>
/// The SIMD loops every vectorized elementwise kernel runs: a unary map and a binary zip over contiguous
/// spans, at the widest vector width the CPU accelerates (checked once per call; the JIT folds the
/// checks). A span shorter than that width uses the next narrower one, and one shorter than four lanes
/// the scalar form. The ends are one full vector starting at the first element and one ending at the
/// last, computed before anything is stored so an in-place call (output the same memory as an input)
/// stays correct.
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
    // Each loop computes the first and the last vector before storing anything (so an in-place call reads
    // only inputs), then runs from the first element whose store is vector-aligned: arrays are only 8-byte
    // aligned, and stores straddling cache lines cost more than the one overlapping vector at each end.

    /// <summary>The index of the first element at <paramref name="vectorBytes"/>-aligned address in <paramref name="p"/> (at most one vector in).</summary>
    private static unsafe nuint StoreAlignedStart<T>(T* p, int vectorBytes) where T : unmanaged =>
        ((nuint)vectorBytes - (nuint)p % (nuint)vectorBytes) % (nuint)vectorBytes / (nuint)sizeof(T);

    private static unsafe void Map512<TOp, T>(TOp op, ref T xr, ref T yr, nuint n) where TOp : struct, IVectorUnaryOp<T> where T : unmanaged
    {
        nuint c = (nuint)Vector512<T>.Count;
        fixed (T* x = &xr, y = &yr)
        {
            var first = op.Invoke(Vector512.Load(x));
            var last = op.Invoke(Vector512.Load(x + (n - c)));
            nuint i = StoreAlignedStart<T>(y, 64);
            for (; i + 4 * c <= n; i += 4 * c)
            {
                var a = Vector512.Load(x + i);
                var b = Vector512.Load(x + i + c);
                var d = Vector512.Load(x + i + 2 * c);
                var e = Vector512.Load(x + i + 3 * c);
                op.Invoke(a).Store(y + i);
                op.Invoke(b).Store(y + i + c);
                op.Invoke(d).Store(y + i + 2 * c);
                op.Invoke(e).Store(y + i + 3 * c);
            }
            for (; i + c <= n; i += c) op.Invoke(Vector512.Load(x + i)).Store(y + i);
            first.Store(y);
            last.Store(y + (n - c));
        }
    }

    private static unsafe void Map256<TOp, T>(TOp op, ref T xr, ref T yr, nuint n) where TOp : struct, IVectorUnaryOp<T> where T : unmanaged
    {
        nuint c = (nuint)Vector256<T>.Count;
        fixed (T* x = &xr, y = &yr)
        {
            var first = op.Invoke(Vector256.Load(x));
            var last = op.Invoke(Vector256.Load(x + (n - c)));
            nuint i = StoreAlignedStart<T>(y, 32);
            for (; i + 4 * c <= n; i += 4 * c)
            {
                var a = Vector256.Load(x + i);
                var b = Vector256.Load(x + i + c);
                var d = Vector256.Load(x + i + 2 * c);
                var e = Vector256.Load(x + i + 3 * c);
                op.Invoke(a).Store(y + i);
                op.Invoke(b).Store(y + i + c);
                op.Invoke(d).Store(y + i + 2 * c);
                op.Invoke(e).Store(y + i + 3 * c);
            }
            for (; i + c <= n; i += c) op.Invoke(Vector256.Load(x + i)).Store(y + i);
            first.Store(y);
            last.Store(y + (n - c));
        }
    }

    private static unsafe void Map128<TOp, T>(TOp op, ref T xr, ref T yr, nuint n) where TOp : struct, IVectorUnaryOp<T> where T : unmanaged
    {
        nuint c = (nuint)Vector128<T>.Count;
        fixed (T* x = &xr, y = &yr)
        {
            var first = op.Invoke(Vector128.Load(x));
            var last = op.Invoke(Vector128.Load(x + (n - c)));
            nuint i = StoreAlignedStart<T>(y, 16);
            for (; i + 4 * c <= n; i += 4 * c)
            {
                var a = Vector128.Load(x + i);
                var b = Vector128.Load(x + i + c);
                var d = Vector128.Load(x + i + 2 * c);
                var e = Vector128.Load(x + i + 3 * c);
                op.Invoke(a).Store(y + i);
                op.Invoke(b).Store(y + i + c);
                op.Invoke(d).Store(y + i + 2 * c);
                op.Invoke(e).Store(y + i + 3 * c);
            }
            for (; i + c <= n; i += c) op.Invoke(Vector128.Load(x + i)).Store(y + i);
            first.Store(y);
            last.Store(y + (n - c));
        }
    }

    private static unsafe void Zip512<TOp, T>(TOp op, ref T xr, ref T yr, ref T zr, nuint n) where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
    {
        nuint c = (nuint)Vector512<T>.Count;
        fixed (T* x = &xr, y = &yr, z = &zr)
        {
            var first = op.Invoke(Vector512.Load(x), Vector512.Load(y));
            var last = op.Invoke(Vector512.Load(x + (n - c)), Vector512.Load(y + (n - c)));
            nuint i = StoreAlignedStart<T>(z, 64);
            for (; i + 2 * c <= n; i += 2 * c)
            {
                var a = op.Invoke(Vector512.Load(x + i), Vector512.Load(y + i));
                var b = op.Invoke(Vector512.Load(x + i + c), Vector512.Load(y + i + c));
                a.Store(z + i);
                b.Store(z + i + c);
            }
            for (; i + c <= n; i += c) op.Invoke(Vector512.Load(x + i), Vector512.Load(y + i)).Store(z + i);
            first.Store(z);
            last.Store(z + (n - c));
        }
    }

    private static unsafe void Zip256<TOp, T>(TOp op, ref T xr, ref T yr, ref T zr, nuint n) where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
    {
        nuint c = (nuint)Vector256<T>.Count;
        fixed (T* x = &xr, y = &yr, z = &zr)
        {
            var first = op.Invoke(Vector256.Load(x), Vector256.Load(y));
            var last = op.Invoke(Vector256.Load(x + (n - c)), Vector256.Load(y + (n - c)));
            nuint i = StoreAlignedStart<T>(z, 32);
            for (; i + 2 * c <= n; i += 2 * c)
            {
                var a = op.Invoke(Vector256.Load(x + i), Vector256.Load(y + i));
                var b = op.Invoke(Vector256.Load(x + i + c), Vector256.Load(y + i + c));
                a.Store(z + i);
                b.Store(z + i + c);
            }
            for (; i + c <= n; i += c) op.Invoke(Vector256.Load(x + i), Vector256.Load(y + i)).Store(z + i);
            first.Store(z);
            last.Store(z + (n - c));
        }
    }

    private static unsafe void Zip128<TOp, T>(TOp op, ref T xr, ref T yr, ref T zr, nuint n) where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
    {
        nuint c = (nuint)Vector128<T>.Count;
        fixed (T* x = &xr, y = &yr, z = &zr)
        {
            var first = op.Invoke(Vector128.Load(x), Vector128.Load(y));
            var last = op.Invoke(Vector128.Load(x + (n - c)), Vector128.Load(y + (n - c)));
            nuint i = StoreAlignedStart<T>(z, 16);
            for (; i + 2 * c <= n; i += 2 * c)
            {
                var a = op.Invoke(Vector128.Load(x + i), Vector128.Load(y + i));
                var b = op.Invoke(Vector128.Load(x + i + c), Vector128.Load(y + i + c));
                a.Store(z + i);
                b.Store(z + i + c);
            }
            for (; i + c <= n; i += c) op.Invoke(Vector128.Load(x + i), Vector128.Load(y + i)).Store(z + i);
            first.Store(z);
            last.Store(z + (n - c));
        }
    }
}
