using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;
using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Reference;

/// <summary>What a Reduce* operator computes.</summary>
internal enum ReduceKind { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare }

/// <summary>
/// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum,
/// ReduceLogSumExp, ReduceSumSquare at every opset. <c>axes</c> is an attribute before opset 13
/// (ReduceSum) or 18 (the others) and an optional input from then on, together with
/// <c>noop_with_empty_axes</c>. Floating inputs accumulate in double; integer inputs in their own type,
/// wrapping like NumPy with <c>dtype=x.dtype</c>.
/// </summary>
[KernelRegistrations]
internal static class ReduceKernels
{
    /// <summary>Operator name, kind, and the opset where <c>axes</c> became an input.</summary>
    public static readonly (string Op, ReduceKind Kind, int AxesInputSince)[] Operators =
    [
        ("ReduceSum", ReduceKind.Sum, 13),
        ("ReduceMean", ReduceKind.Mean, 18),
        ("ReduceMax", ReduceKind.Max, 18),
        ("ReduceMin", ReduceKind.Min, 18),
        ("ReduceProd", ReduceKind.Prod, 18),
        ("ReduceL1", ReduceKind.L1, 18),
        ("ReduceL2", ReduceKind.L2, 18),
        ("ReduceLogSum", ReduceKind.LogSum, 18),
        ("ReduceLogSumExp", ReduceKind.LogSumExp, 18),
        ("ReduceSumSquare", ReduceKind.SumSquare, 18),
    ];

    public static void Register(KernelRegistry r)
    {
        foreach (var (op, kind, since) in Operators)
            r.Add(op, info => Create(info, kind, since));
    }

    private static ReduceKernel Create(KernelInfo info, ReduceKind kind, int axesInputSince)
    {
        bool fromInput = info.Opset >= axesInputSince;
        var dt = info.InputDataType(0);
        if (dt == DataType.Bool && kind is not (ReduceKind.Max or ReduceKind.Min))
            throw info.Fail($"{info.Node.OpType} does not accept bool input");
        if (dt != DataType.Undefined && dt != DataType.Bool && !(dt.IsInteger() || dt is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16))
            throw info.Unsupported($"{info.Node.OpType} does not support {dt.Name()} input");
        return new ReduceKernel(kind,
            fromInput ? null : info.GetInts("axes")?.ToArray() ?? [],
            info.GetInt("keepdims", 1) != 0,
            fromInput && info.GetInt("noop_with_empty_axes", 0) != 0);
    }

    /// <summary><paramref name="attributeAxes"/> is null when the axes come from input 1.</summary>
    private sealed class ReduceKernel(ReduceKind kind, long[]? attributeAxes, bool keepDims, bool noopWithEmptyAxes) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            long[] axes = attributeAxes ?? (ctx.OptionalInput(1) is { } t ? ReduceAxes.Read(t, ctx.Fail) : []);
            int[] reduced = axes.Length > 0 ? ReduceAxes.Normalize(axes, x.Rank, ctx.Fail)
                : noopWithEmptyAxes ? [] : ReduceAxes.All(x.Rank);
            var plan = ReducePlan.Create(x.Shape, reduced, keepDims);
            var y = ctx.AllocateOutput(0, x.DataType, plan.OutputShape);
            switch (x.DataType)
            {
                case DataType.Float: Floating(kind, x.AsSpan<float>(), y.AsSpan<float>(), plan); break;
                case DataType.Double: Floating(kind, x.AsSpan<double>(), y.AsSpan<double>(), plan); break;
                case DataType.Float16: Floating(kind, x.AsSpan<Half>(), y.AsSpan<Half>(), plan); break;
                case DataType.BFloat16: Floating(kind, x.AsSpan<BFloat16>(), y.AsSpan<BFloat16>(), plan); break;
                case DataType.Int8: Integer(kind, x.AsSpan<sbyte>(), y.AsSpan<sbyte>(), plan); break;
                case DataType.UInt8: Integer(kind, x.AsSpan<byte>(), y.AsSpan<byte>(), plan); break;
                case DataType.Int16: Integer(kind, x.AsSpan<short>(), y.AsSpan<short>(), plan); break;
                case DataType.UInt16: Integer(kind, x.AsSpan<ushort>(), y.AsSpan<ushort>(), plan); break;
                case DataType.Int32: Integer(kind, x.AsSpan<int>(), y.AsSpan<int>(), plan); break;
                case DataType.UInt32: Integer(kind, x.AsSpan<uint>(), y.AsSpan<uint>(), plan); break;
                case DataType.Int64: Integer(kind, x.AsSpan<long>(), y.AsSpan<long>(), plan); break;
                case DataType.UInt64: Integer(kind, x.AsSpan<ulong>(), y.AsSpan<ulong>(), plan); break;
                case DataType.Bool when kind == ReduceKind.Max: ReduceAccumulate.Run(x.AsSpan<bool>(), y.AsSpan<bool>(), plan, new ReduceOps.Any()); break;
                case DataType.Bool when kind == ReduceKind.Min: ReduceAccumulate.Run(x.AsSpan<bool>(), y.AsSpan<bool>(), plan, new ReduceOps.All()); break;
                default: throw ctx.Fail($"{ctx.Node.OpType} does not support {x.DataType.Name()} input");
            }
        }
    }

    /// <summary>Reduces in double and rounds once at the end (also used for the log/sqrt reductions of integers).</summary>
    private static void Floating<T>(ReduceKind kind, ReadOnlySpan<T> x, Span<T> y, ReducePlan plan)
    {
        var acc = new double[plan.OutputLength];
        switch (kind)
        {
            case ReduceKind.Sum: ReduceAccumulate.Run(x, acc.AsSpan(), plan, new ReduceOps.Sum<T>()); break;
            case ReduceKind.Mean:
                ReduceAccumulate.Run(x, acc.AsSpan(), plan, new ReduceOps.Sum<T>());
                // The spec leaves the mean of an empty set undefined; ONNX Runtime gives 0 (NumPy NaN).
                if (plan.ReducedCount > 0) for (int i = 0; i < acc.Length; i++) acc[i] /= plan.ReducedCount;
                break;
            case ReduceKind.Max: ReduceAccumulate.Run(x, acc.AsSpan(), plan, new ReduceOps.Max<T>()); break;
            case ReduceKind.Min: ReduceAccumulate.Run(x, acc.AsSpan(), plan, new ReduceOps.Min<T>()); break;
            case ReduceKind.Prod: ReduceAccumulate.Run(x, acc.AsSpan(), plan, new ReduceOps.Prod<T>()); break;
            case ReduceKind.L1: ReduceAccumulate.Run(x, acc.AsSpan(), plan, new ReduceOps.AbsSum<T>()); break;
            case ReduceKind.SumSquare: ReduceAccumulate.Run(x, acc.AsSpan(), plan, new ReduceOps.SumSquare<T>()); break;
            case ReduceKind.L2:
                ReduceAccumulate.Run(x, acc.AsSpan(), plan, new ReduceOps.SumSquare<T>());
                for (int i = 0; i < acc.Length; i++) acc[i] = Math.Sqrt(acc[i]);
                break;
            case ReduceKind.LogSum:
                ReduceAccumulate.Run(x, acc.AsSpan(), plan, new ReduceOps.Sum<T>());
                for (int i = 0; i < acc.Length; i++) acc[i] = Math.Log(acc[i]);
                break;
            case ReduceKind.LogSumExp:
                // log(sum(exp(x - m))) + m with m the largest finite element (0 if none): no overflow, and
                // infinities still give the right answer (+inf dominates, all -inf gives -inf).
                var shift = new double[plan.OutputLength];
                ReduceAccumulate.Run(x, shift.AsSpan(), plan, new ReduceOps.FiniteMax<T>());
                for (int i = 0; i < shift.Length; i++) if (double.IsNegativeInfinity(shift[i])) shift[i] = 0;
                ReduceAccumulate.Run(x, acc.AsSpan(), plan, new ReduceOps.ExpShiftedSum<T>(shift));
                for (int i = 0; i < acc.Length; i++) acc[i] = Math.Log(acc[i]) + shift[i];
                break;
        }
        for (int i = 0; i < y.Length; i++) y[i] = FromDouble<T>(acc[i]);
    }

    /// <summary>Integer reductions that stay in the integer type (so int64 stays exact and overflow wraps); the rest go through double.</summary>
    private static void Integer<T>(ReduceKind kind, ReadOnlySpan<T> x, Span<T> y, ReducePlan plan)
        where T : unmanaged, IBinaryInteger<T>, IMinMaxValue<T>
    {
        switch (kind)
        {
            case ReduceKind.Sum: ReduceAccumulate.Run(x, y, plan, new ReduceOps.IntSum<T>()); break;
            case ReduceKind.Mean:
                // NumPy: sum in the integer type, true division, truncation back to the type.
                ReduceAccumulate.Run(x, y, plan, new ReduceOps.IntSum<T>());
                if (plan.ReducedCount > 0) for (int i = 0; i < y.Length; i++) y[i] = FromDouble<T>(ToDouble(y[i]) / plan.ReducedCount);
                break;
            case ReduceKind.Max: ReduceAccumulate.Run(x, y, plan, new ReduceOps.IntMax<T>()); break;
            case ReduceKind.Min: ReduceAccumulate.Run(x, y, plan, new ReduceOps.IntMin<T>()); break;
            case ReduceKind.Prod: ReduceAccumulate.Run(x, y, plan, new ReduceOps.IntProd<T>()); break;
            case ReduceKind.L1: ReduceAccumulate.Run(x, y, plan, new ReduceOps.IntAbsSum<T>()); break;
            case ReduceKind.SumSquare: ReduceAccumulate.Run(x, y, plan, new ReduceOps.IntSumSquare<T>()); break;
            case ReduceKind.LogSumExp:
                // As ONNX Runtime: the exponentials accumulate in the integer type (each truncated, so only
                // the maxima count), and the log is truncated before the maximum is added back.
                ReduceAccumulate.Run(x, y, plan, new ReduceOps.IntMax<T>());
                var shift = new double[y.Length];
                for (int i = 0; i < shift.Length; i++) shift[i] = ToDouble(y[i]);
                var acc = new double[y.Length];
                ReduceAccumulate.Run(x, acc.AsSpan(), plan, new ReduceOps.TruncatedExpShiftedSum<T>(shift));
                for (int i = 0; i < y.Length; i++) y[i] = FromDouble<T>(Math.Truncate(Math.Log(acc[i]))) + y[i];
                break;
            default: Floating(kind, x, y, plan); break;
        }
    }
}
