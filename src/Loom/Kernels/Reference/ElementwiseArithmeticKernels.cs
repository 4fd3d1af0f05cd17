using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Add, Sub, Mul, Div, Mod and the variadic Sum, Mean, Max, Min, all with NumPy broadcasting.</summary>
[KernelRegistrations]
internal static class ElementwiseArithmeticKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Add", info => new BinaryNumberKernel<AddOp>(LegacyBroadcast.From(info)));
        r.Add("Sub", info => new BinaryNumberKernel<SubOp>(LegacyBroadcast.From(info)));
        r.Add("Mul", info => new BinaryNumberKernel<MulOp>(LegacyBroadcast.From(info)));
        r.Add("Div", info => new BinaryNumberKernel<DivOp>(LegacyBroadcast.From(info)));
        r.Add("Mod", info => info.GetInt("fmod", 0) != 0 ? new BinaryNumberKernel<TruncatedModOp>() : new BinaryNumberKernel<FloorModOp>());
        r.Add("Sum", _ => new BinaryNumberKernel<AddOp>());
        r.Add("Max", _ => new BinaryNumberKernel<MaxOp>());
        r.Add("Min", _ => new BinaryNumberKernel<MinOp>());
        r.Add("Mean", _ => new MeanKernel());
    }

    internal struct AddOp : IBinaryNumberOp { public static T Invoke<T>(T x, T y) where T : INumber<T> => x + y; }
    private struct SubOp : IBinaryNumberOp { public static T Invoke<T>(T x, T y) where T : INumber<T> => x - y; }
    private struct MulOp : IBinaryNumberOp { public static T Invoke<T>(T x, T y) where T : INumber<T> => x * y; }

    /// <summary>Integer division truncates toward zero, as C and ONNX Runtime do.</summary>
    private struct DivOp : IBinaryNumberOp { public static T Invoke<T>(T x, T y) where T : INumber<T> => x / y; }

    /// <summary>Max and Min propagate NaN, as NumPy's maximum/minimum.</summary>
    private struct MaxOp : IBinaryNumberOp { public static T Invoke<T>(T x, T y) where T : INumber<T> => T.Max(x, y); }
    private struct MinOp : IBinaryNumberOp { public static T Invoke<T>(T x, T y) where T : INumber<T> => T.Min(x, y); }

    /// <summary>fmod=1: the remainder has the sign of the dividend (C's fmod / %).</summary>
    private struct TruncatedModOp : IBinaryNumberOp { public static T Invoke<T>(T x, T y) where T : INumber<T> => x % y; }

    /// <summary>fmod=0: the remainder has the sign of the divisor (Python's and NumPy's %).</summary>
    private struct FloorModOp : IBinaryNumberOp
    {
        public static T Invoke<T>(T x, T y) where T : INumber<T>
        {
            T r = x % y;
            return r != T.Zero && (r < T.Zero) != (y < T.Zero) ? r + y : r;
        }
    }

    /// <summary>The elementwise sum divided by the input count (in float32 for float16/bfloat16, rounded once).</summary>
    private sealed class MeanKernel : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var inputs = BinaryNumberKernel<AddOp>.VariadicInputs(ctx);
            var dt = inputs[0].DataType;
            if (!dt.IsFloatingPoint()) throw ElementwiseKernel.Unsupported(ctx, dt);
            var output = ctx.AllocateOutput(0, dt, ElementwiseLoops.BroadcastShape(ctx, inputs));
            bool half = ElementwiseTypes.IsHalfLike(dt);
            if (half) inputs = inputs.Select(ElementwiseTypes.Widen).ToArray();
            Tensor sum;
            if (inputs.Length == 1) sum = inputs[0].Clone();
            else BinaryNumberKernel<AddOp>.Fold(ctx, inputs, sum = half ? Tensor.Zeros(DataType.Float, output.Shape) : output);
            int n = inputs.Length;
            switch (sum.DataType)
            {
                case DataType.Float:
                {
                    var s = sum.AsSpan<float>();
                    for (int i = 0; i < s.Length; i++) s[i] /= n;
                    if (half) ElementwiseTypes.Narrow(s, output);
                    else if (!ReferenceEquals(sum, output)) s.CopyTo(output.AsSpan<float>());
                    break;
                }
                case DataType.Double:
                {
                    var s = sum.AsSpan<double>();
                    for (int i = 0; i < s.Length; i++) s[i] /= n;
                    if (!ReferenceEquals(sum, output)) s.CopyTo(output.AsSpan<double>());
                    break;
                }
                default: throw ElementwiseKernel.Unsupported(ctx, dt);
            }
        }
    }
}
