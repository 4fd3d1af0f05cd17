using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Ops that make a tensor from a shape or pattern: ConstantOfShape, EyeLike, Range, Trilu, OneHot.</summary>
[KernelRegistrations]
internal static class ShapeGeneratorKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("ConstantOfShape", info =>
        {
            var value = info.Node.GetAttribute("value")?.AsTensor() ?? Tensor.Zeros(DataType.Float, [1]);
            if (value.Length != 1) throw info.Fail($"value must have exactly one element, got {value}");
            return new ConstantOfShapeKernel(value);
        });
        r.Add("EyeLike", info =>
        {
            DataType? dt = info.Node.HasAttribute("dtype") ? (DataType)info.GetInt("dtype", 1) : null;
            if (dt is { } d && (!d.IsSupported() || d == DataType.String)) throw info.Fail($"dtype {(int)d} is not a supported EyeLike output type");
            return new EyeLikeKernel(dt, info.GetInt("k", 0));
        });
        r.Add("Range", _ => new RangeKernel());
        r.Add("Trilu", info => new TriluKernel(info.GetInt("upper", 1) != 0));
        r.Add("OneHot", info => new OneHotKernel(info.GetInt("axis", -1)));
    }

    private static int[] ShapeFrom(KernelContext ctx, Tensor t)
    {
        var v = ShapeIntegers.Read(t);
        var dims = new int[v.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            if (v[i] < 0 || v[i] > int.MaxValue) throw ctx.Fail($"shape [{string.Join(",", v.ToArray())}] has the invalid dim {v[i]}");
            dims[i] = (int)v[i];
        }
        return dims;
    }

    private sealed class ConstantOfShapeKernel(Tensor value) : StorageKernel
    {
        protected override DataType StorageType(KernelContext ctx) => value.DataType;

        protected override void Execute<T>(KernelContext ctx)
        {
            var y = ctx.AllocateOutput(0, value.DataType, ShapeFrom(ctx, ctx.Input(0)));
            ShapeStorage.Elements<T>(y).Fill(ShapeStorage.Elements<T>(value)[0]);
        }
    }

    /// <summary>A 2-D tensor of zeros with ones on the k-th diagonal.</summary>
    private sealed class EyeLikeKernel(DataType? dataType, long k) : StorageKernel
    {
        protected override DataType StorageType(KernelContext ctx) => dataType ?? ctx.Input(0).DataType;

        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank != 2) throw ctx.Fail($"input must be 2-D, got {ShapeMath.Format(x.Shape)}");
            var dt = StorageType(ctx);
            var y = ctx.AllocateOutput(0, dt, x.Shape);
            var one = ShapeStorage.Elements<T>(ShapeIntegers.ScalarOf(dt, 1, []))[0];
            var dst = ShapeStorage.Elements<T>(y);
            int rows = x.Shape[0], cols = x.Shape[1];
            for (long i = Math.Max(0, -k); i < rows && i + k < cols; i++) dst[(int)(i * cols + i + k)] = one;
        }
    }

    private sealed class RangeKernel : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var start = ctx.Input(0);
            switch (start.DataType)
            {
                case DataType.Float: Fill<float>(ctx); break;
                case DataType.Double: Fill<double>(ctx); break;
                case DataType.Int16: Fill<short>(ctx); break;
                case DataType.Int32: Fill<int>(ctx); break;
                case DataType.Int64: Fill<long>(ctx); break;
                default: throw ctx.Fail($"Range does not support {start.DataType.Name()}");
            }
        }

        /// <summary>As ONNX Runtime: the count is ceil((limit-start)/delta) in double, the values accumulate start += delta.</summary>
        private static void Fill<T>(KernelContext ctx) where T : INumber<T>
        {
            T start = Scalar<T>(ctx, 0, "start"), limit = Scalar<T>(ctx, 1, "limit"), delta = Scalar<T>(ctx, 2, "delta");
            if (T.IsZero(delta)) throw ctx.Fail("delta must not be 0");
            // C++ promotes int16/int32 differences to int before the double division; int64 and floats subtract in T.
            double span = typeof(T) == typeof(short) || typeof(T) == typeof(int)
                ? double.CreateTruncating(limit) - double.CreateTruncating(start)
                : double.CreateTruncating(limit - start);
            double n = Math.Ceiling(span / double.CreateTruncating(delta));
            if (!(n > 0)) n = 0;
            if (n > Array.MaxLength) throw ctx.Fail($"the range from {start} to {limit} by {delta} has too many elements");
            var y = ctx.AllocateOutput(0, ctx.Input(0).DataType, [(int)n]).AsSpan<T>();
            for (int i = 0; i < y.Length; i++, start += delta) y[i] = start;
        }

        private static T Scalar<T>(KernelContext ctx, int i, string what)
        {
            var t = ctx.Input(i);
            if (t.Length != 1) throw ctx.Fail($"{what} must be a scalar, got shape {ShapeMath.Format(t.Shape)}");
            if (t.DataType != ctx.Input(0).DataType) throw ctx.Fail($"{what} is {t.DataType.Name()} but start is {ctx.Input(0).DataType.Name()}");
            return t.AsSpan<T>()[0];
        }
    }

    /// <summary>Keeps the upper (j - i ≥ k) or lower (j - i ≤ k) triangle of each matrix; the rest is zero.</summary>
    private sealed class TriluKernel(bool upper) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank < 2) throw ctx.Fail($"input must have rank 2 or more, got {ShapeMath.Format(x.Shape)}");
            long k = ctx.OptionalInput(1) is { } kt ? ShapeIntegers.Scalar(kt, ctx, "k") : 0;
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
            if (y.Length == 0) return;
            var src = ShapeStorage.Elements<T>(x);
            var dst = ShapeStorage.Elements<T>(y);
            int rows = x.Shape[^2], cols = x.Shape[^1], matrices = x.Length / (rows * cols);
            for (int m = 0; m < matrices; m++)
                for (int i = 0; i < rows; i++)
                {
                    long from = upper ? Math.Clamp(i + k, 0, cols) : 0;
                    long to = upper ? cols : Math.Clamp(i + k + 1, 0, cols);
                    int row = (m * rows + i) * cols;
                    if (to > from) src.Slice(row + (int)from, (int)(to - from)).CopyTo(dst.Slice(row + (int)from, (int)(to - from)));
                }
        }
    }

    /// <summary>values[1] where the axis coordinate equals the index (negative ones wrap once), values[0] elsewhere.</summary>
    private sealed class OneHotKernel(long axis) : StorageKernel
    {
        protected override int DataInput => 2;

        protected override void Execute<T>(KernelContext ctx)
        {
            var indexTensor = ctx.Input(0);
            var values = ctx.Input(2);
            if (values.Length != 2) throw ctx.Fail($"values must hold [off, on], got shape {ShapeMath.Format(values.Shape)}");
            long depth = ShapeIntegers.ToLongs(ctx.Input(1)) is [var dv] ? dv : throw ctx.Fail("depth must have exactly one element");
            if (depth < 1 || depth > int.MaxValue) throw ctx.Fail($"depth {depth} must be positive");
            int rank = indexTensor.Rank + 1;
            if (axis < -rank || axis >= rank) throw ctx.Fail($"axis {axis} is out of range for output rank {rank}");
            int a = (int)(axis < 0 ? axis + rank : axis);
            var outShape = new int[rank];
            indexTensor.Shape[..a].CopyTo(outShape);
            outShape[a] = (int)depth;
            indexTensor.Shape[a..].CopyTo(outShape.AsSpan(a + 1));
            var y = ctx.AllocateOutput(0, values.DataType, outShape);
            var v = ShapeStorage.Elements<T>(values);
            var dst = ShapeStorage.Elements<T>(y);
            dst.Fill(v[0]);
            var indices = ShapeIntegers.ToLongs(indexTensor);
            int inner = (int)ShapeMath.Size(indexTensor.Shape[a..]);
            for (int i = 0; i < indices.Length; i++)
            {
                long idx = indices[i] < 0 ? indices[i] + depth : indices[i];
                if (idx < 0 || idx >= depth) continue; // out of range: all off, as ONNX Runtime
                int outer = i / inner, pos = i % inner;
                dst[(int)((outer * depth + idx) * inner + pos)] = v[1];
            }
        }
    }
}
