using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;
using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Reference;

/// <summary>
/// CumSum (opset 11, 14): running sums along the axis given by input 1, optionally exclusive (each
/// output leaves its own element out) and/or reverse. Floating types sum in double; integers in their
/// own type, wrapping like NumPy.
/// </summary>
[KernelRegistrations]
internal static class CumSumKernels
{
    public static void Register(KernelRegistry r) => r.Add("CumSum", info =>
        new CumSumKernel(info.GetInt("exclusive", 0) != 0, info.GetInt("reverse", 0) != 0), sinceVersion: 11);

    private sealed class CumSumKernel(bool exclusive, bool reverse) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var axisValues = ReduceAxes.Read(ctx.Input(1), ctx.Fail);
            if (axisValues.Length != 1) throw ctx.Fail($"axis must hold one value, not {axisValues.Length}");
            int axis = ReduceAxes.Single(axisValues[0], x.Rank, ctx.Fail);
            var (outer, n, inner) = ReduceAxes.Split(x.Shape, axis);
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
            var s = new Scan(outer, n, inner, exclusive, reverse);
            switch (x.DataType)
            {
                case DataType.Float: s.Floating(x.AsSpan<float>(), y.AsSpan<float>()); break;
                case DataType.Double: s.Floating(x.AsSpan<double>(), y.AsSpan<double>()); break;
                case DataType.Float16: s.Floating(x.AsSpan<Half>(), y.AsSpan<Half>()); break;
                case DataType.BFloat16: s.Floating(x.AsSpan<BFloat16>(), y.AsSpan<BFloat16>()); break;
                case DataType.Int8: s.Integer(x.AsSpan<sbyte>(), y.AsSpan<sbyte>()); break;
                case DataType.UInt8: s.Integer(x.AsSpan<byte>(), y.AsSpan<byte>()); break;
                case DataType.Int16: s.Integer(x.AsSpan<short>(), y.AsSpan<short>()); break;
                case DataType.UInt16: s.Integer(x.AsSpan<ushort>(), y.AsSpan<ushort>()); break;
                case DataType.Int32: s.Integer(x.AsSpan<int>(), y.AsSpan<int>()); break;
                case DataType.UInt32: s.Integer(x.AsSpan<uint>(), y.AsSpan<uint>()); break;
                case DataType.Int64: s.Integer(x.AsSpan<long>(), y.AsSpan<long>()); break;
                case DataType.UInt64: s.Integer(x.AsSpan<ulong>(), y.AsSpan<ulong>()); break;
                default: throw ctx.Fail($"CumSum does not support {x.DataType.Name()} input");
            }
        }
    }

    /// <summary>The scan over <c>[outer, n, inner]</c>: rows of <c>inner</c> contiguous elements, visited forward or backward.</summary>
    private readonly record struct Scan(int Outer, int N, int Inner, bool Exclusive, bool Reverse)
    {
        private int RowStart(int o, int step) => (o * N + (Reverse ? N - 1 - step : step)) * Inner;

        public void Floating<T>(ReadOnlySpan<T> x, Span<T> y)
        {
            var acc = new double[Inner];
            for (int o = 0; o < Outer; o++)
            {
                Array.Clear(acc);
                for (int step = 0; step < N; step++)
                {
                    int start = RowStart(o, step);
                    var src = x.Slice(start, Inner);
                    var dst = y.Slice(start, Inner);
                    for (int i = 0; i < Inner; i++)
                    {
                        double v = ToDouble(src[i]);
                        if (Exclusive) { dst[i] = FromDouble<T>(acc[i]); acc[i] += v; }
                        else { acc[i] += v; dst[i] = FromDouble<T>(acc[i]); }
                    }
                }
            }
        }

        public void Integer<T>(ReadOnlySpan<T> x, Span<T> y) where T : IBinaryInteger<T>
        {
            var acc = new T[Inner];
            for (int o = 0; o < Outer; o++)
            {
                Array.Fill(acc, T.Zero);
                for (int step = 0; step < N; step++)
                {
                    int start = RowStart(o, step);
                    var src = x.Slice(start, Inner);
                    var dst = y.Slice(start, Inner);
                    for (int i = 0; i < Inner; i++)
                    {
                        if (Exclusive) { dst[i] = acc[i]; acc[i] += src[i]; }
                        else { acc[i] += src[i]; dst[i] = acc[i]; }
                    }
                }
            }
        }
    }
}
