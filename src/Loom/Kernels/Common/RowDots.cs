using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Common;

/// <summary>
/// c[j] (+)= dot(a, row j of B) for rows [j0, j1) of a row-major B: a batch-1 fully connected layer with its weights
/// as stored (Gemm with transB). The product is bound by reading B once, and one row at a time is one stream of
/// reads, which one core here pulls from memory at 16.6 GB/s; eight rows side by side are eight streams, 28 GB/s
/// (AlexNet's 4096×9216 layer: 9.1 → 5.4 ms; ONNX Runtime 6.1 ms). Every row is summed the same way wherever it
/// falls in a group of eight, so any split of the rows between threads gives the same bits.
/// </summary>
internal static unsafe class RowDots
{
    public static void Run(int j0, int j1, int k, float* a, float* b, int ldb, float* c, bool accumulate)
    {
        if (Vector512.IsHardwareAccelerated) Rows<Lanes512>(j0, j1, k, a, b, ldb, c, accumulate);
        else if (Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported) Rows<Lanes256>(j0, j1, k, a, b, ldb, c, accumulate);
        else
        {
            var x = new ReadOnlySpan<float>(a, k);
            for (int j = j0; j < j1; j++)
            {
                float dot = TensorPrimitives.Dot(x, new ReadOnlySpan<float>(b + (long)j * ldb, k));
                c[j] = accumulate ? c[j] + dot : dot;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TLanes>(int j0, int j1, int k, float* a, float* b, int ldb, float* c, bool accumulate) where TLanes : struct, ILanes<TLanes>
    {
        int w = TLanes.Width, kv = k - k % w;
        long l = ldb;
        int j = j0;
        for (; j + 8 <= j1; j += 8)
        {
            float* p = b + j * l;
            TLanes s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            for (int i = 0; i < kv; i += w, p += w)
            {
                var x = TLanes.Load(a + i);
                s0 = s0.Fma(p, x); s1 = s1.Fma(p + l, x); s2 = s2.Fma(p + 2 * l, x); s3 = s3.Fma(p + 3 * l, x);
                s4 = s4.Fma(p + 4 * l, x); s5 = s5.Fma(p + 5 * l, x); s6 = s6.Fma(p + 6 * l, x); s7 = s7.Fma(p + 7 * l, x);
            }
            Store(c, j, Finish(s0.Sum(), j, kv, k, a, b, l), accumulate);
            Store(c, j + 1, Finish(s1.Sum(), j + 1, kv, k, a, b, l), accumulate);
            Store(c, j + 2, Finish(s2.Sum(), j + 2, kv, k, a, b, l), accumulate);
            Store(c, j + 3, Finish(s3.Sum(), j + 3, kv, k, a, b, l), accumulate);
            Store(c, j + 4, Finish(s4.Sum(), j + 4, kv, k, a, b, l), accumulate);
            Store(c, j + 5, Finish(s5.Sum(), j + 5, kv, k, a, b, l), accumulate);
            Store(c, j + 6, Finish(s6.Sum(), j + 6, kv, k, a, b, l), accumulate);
            Store(c, j + 7, Finish(s7.Sum(), j + 7, kv, k, a, b, l), accumulate);
        }
        for (; j < j1; j++) // the same arithmetic for a row outside a group of eight
        {
            float* p = b + j * l;
            TLanes s = default;
            for (int i = 0; i < kv; i += w) s = s.Fma(p + i, TLanes.Load(a + i));
            Store(c, j, Finish(s.Sum(), j, kv, k, a, b, l), accumulate);
        }
    }

    /// <summary>The row's vector sum plus its last k mod width products, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(float sum, int j, int kv, int k, float* a, float* b, long l)
    {
        float* p = b + j * l;
        for (int i = kv; i < k; i++) sum += p[i] * a[i];
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, int j, float dot, bool accumulate) => c[j] = accumulate ? c[j] + dot : dot;

    /// <summary>An accumulator of one vector width (the operator-struct pattern: the JIT specializes Rows per width).</summary>
    private interface ILanes<TSelf> where TSelf : struct, ILanes<TSelf>
    {
        static abstract int Width { get; }
        static abstract TSelf Load(float* p);
        TSelf Fma(float* p, TSelf x);
        float Sum();
    }

    private readonly struct Lanes512(Vector512<float> v) : ILanes<Lanes512>
    {
        public static int Width => Vector512<float>.Count;
        public static Lanes512 Load(float* p) => new(Vector512.Load(p));
        public Lanes512 Fma(float* p, Lanes512 x) => new(Vector512.FusedMultiplyAdd(Vector512.Load(p), x.V, v));
        public float Sum() => Vector512.Sum(v);
        private Vector512<float> V => v;
    }

    private readonly struct Lanes256(Vector256<float> v) : ILanes<Lanes256>
    {
        public static int Width => Vector256<float>.Count;
        public static Lanes256 Load(float* p) => new(Vector256.Load(p));
        public Lanes256 Fma(float* p, Lanes256 x) => new(Vector256.FusedMultiplyAdd(Vector256.Load(p), x.V, v));
        public float Sum() => Vector256.Sum(v);
        private Vector256<float> V => v;
    }
}
