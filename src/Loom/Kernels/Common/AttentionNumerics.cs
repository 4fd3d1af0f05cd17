using System.Numerics;
using System.Numerics.Tensors;
using Loom.Runtime;

namespace Loom.Kernels.Common;

/// <summary>
/// Numerics shared by the sequence-model kernels (Attention, RotaryEmbedding, RNN/GRU/LSTM): moving
/// floating-point tensors into a compute buffer and back, and the two small matrix products they need.
/// Half and bfloat16 are computed in float32 (as ONNX Runtime does), double in double, so every kernel
/// is written once over <c>T</c> = float or double.
/// </summary>
internal static class SequenceNumerics
{
    /// <summary>True when kernels should compute in double rather than float32 for this dtype.</summary>
    public static bool ComputesInDouble(DataType t) => t == DataType.Double;

    public static bool IsSupportedFloat(DataType t) => t is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16;

    /// <summary>The elements of a float tensor (any supported float dtype) as a new <typeparamref name="T"/> array.</summary>
    public static T[] Read<T>(Tensor t) where T : struct, IFloatingPointIeee754<T>
    {
        var r = new T[t.Length];
        switch (t.DataType)
        {
            case DataType.Float: Convert(t.AsReadOnlySpan<float>(), r); break;
            case DataType.Double: Convert(t.AsReadOnlySpan<double>(), r); break;
            case DataType.Float16:
                var h = t.AsReadOnlySpan<Half>();
                for (int i = 0; i < r.Length; i++) r[i] = T.CreateTruncating((float)h[i]);
                break;
            case DataType.BFloat16:
                var b = t.AsReadOnlySpan<BFloat16>();
                for (int i = 0; i < r.Length; i++) r[i] = T.CreateTruncating((float)b[i]);
                break;
            default: throw new InvalidOperationException($"{t.DataType.Name()} is not a floating-point type these kernels compute in");
        }
        return r;
    }

    private static void Convert<TFrom, T>(ReadOnlySpan<TFrom> src, Span<T> dst)
        where TFrom : struct, INumberBase<TFrom> where T : struct, INumberBase<T>
    {
        if (typeof(TFrom) == typeof(T)) { System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, T>(src).CopyTo(dst); return; }
        for (int i = 0; i < src.Length; i++) dst[i] = T.CreateTruncating(src[i]);
    }

    /// <summary>Allocates output <paramref name="output"/> with <paramref name="dataType"/> and fills it from <paramref name="values"/>.</summary>
    public static Tensor Write<T>(KernelContext ctx, int output, DataType dataType, ReadOnlySpan<int> shape, ReadOnlySpan<T> values)
        where T : struct, IFloatingPointIeee754<T>
    {
        var t = ctx.AllocateOutput(output, dataType, shape);
        CopyInto(values, t);
        return t;
    }

    /// <summary>Converts <paramref name="values"/> into the elements of <paramref name="dst"/> (rounding to its dtype).</summary>
    public static void CopyInto<T>(ReadOnlySpan<T> values, Tensor dst) where T : struct, IFloatingPointIeee754<T>
    {
        switch (dst.DataType)
        {
            case DataType.Float: Convert(values, dst.AsSpan<float>()); break;
            case DataType.Double: Convert(values, dst.AsSpan<double>()); break;
            case DataType.Float16:
                var h = dst.AsSpan<Half>();
                for (int i = 0; i < h.Length; i++) h[i] = (Half)float.CreateTruncating(values[i]);
                break;
            case DataType.BFloat16:
                var b = dst.AsSpan<BFloat16>();
                for (int i = 0; i < b.Length; i++) b[i] = (BFloat16)float.CreateTruncating(values[i]);
                break;
            default: throw new InvalidOperationException($"cannot write {dst.DataType.Name()} from {typeof(T).Name}");
        }
    }

    /// <summary>Rounds every element through <paramref name="precision"/> (float16 or bfloat16); other precisions leave the values alone.</summary>
    public static void RoundTo<T>(Span<T> values, DataType precision) where T : struct, IFloatingPointIeee754<T>
    {
        if (precision == DataType.Float16)
            for (int i = 0; i < values.Length; i++) values[i] = T.CreateTruncating((float)(Half)float.CreateTruncating(values[i]));
        else if (precision == DataType.BFloat16)
            for (int i = 0; i < values.Length; i++) values[i] = T.CreateTruncating((float)(BFloat16)float.CreateTruncating(values[i]));
    }

    /// <summary>
    /// <c>C[m×n] (+)= A[m×k] · B[n×k]ᵀ</c> with row strides <paramref name="lda"/>, <paramref name="ldb"/>, <paramref name="ldc"/>.
    /// Both operands are read along contiguous rows, so each element is one SIMD dot product.
    /// </summary>
    public static void MatMulTransposedB<T>(ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc,
        int m, int n, int k, bool accumulate) where T : struct, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            var arow = a.Slice(i * lda, k);
            var crow = c.Slice(i * ldc, n);
            for (int j = 0; j < n; j++)
            {
                var d = TensorPrimitives.Dot(arow, b.Slice(j * ldb, k));
                crow[j] = accumulate ? crow[j] + d : d;
            }
        }
    }

    /// <summary>
    /// <c>C[m×n] += A[m×k] · B[k×n]</c> in i-k-j order: each step adds a scaled row of B to a row of C,
    /// which streams both rows (no strided column walks).
    /// </summary>
    public static void MatMulAccumulate<T>(ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc,
        int m, int n, int k) where T : struct, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            var crow = c.Slice(i * ldc, n);
            var arow = a.Slice(i * lda, k);
            for (int p = 0; p < k; p++)
            {
                TensorPrimitives.MultiplyAdd(b.Slice(p * ldb, n), arow[p], crow, crow);
            }
        }
    }
}
