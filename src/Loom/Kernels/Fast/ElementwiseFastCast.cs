using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>
/// Cast and CastLike between the dtypes models convert on the hot path: float32 ↔ float16 (TensorPrimitives'
/// conversions, round to nearest even as the reference), float32 ↔ float64, int32/int64/bool → float32 and
/// float32 → int32/int64 with the reference's C semantics (truncation; NaN and out-of-range values give the
/// integer minimum). Every other pair goes to the reference kernel.
/// </summary>
[KernelRegistrations]
internal static class ElementwiseFastCast
{
    public static void Register(KernelRegistry r)
    {
        DataType[] sources = [DataType.Float, DataType.Float16, DataType.Double, DataType.Int32, DataType.Int64, DataType.Bool];
        r.Add("Cast", info => ElementwiseCastTarget.Of(info.Node, out _) is { } to ? new CastKernel(to, ReferenceKernels.Create(info)) : ReferenceKernels.Create(info),
            types: sources, priority: ElementwiseFastKernels.Priority);
        r.Add("CastLike", info => new CastKernel(null, ReferenceKernels.Create(info)), 15, types: sources, priority: ElementwiseFastKernels.Priority);
    }

    private sealed class CastKernel(DataType? to, Kernel reference) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var target = to ?? ctx.Input(1).DataType;
            if (x.DataType == target || !Handles(x.DataType, target))
            {
                reference.Run(ctx); // a same-type cast is a view there
                return;
            }
            var y = ctx.AllocateOutput(0, target, x.Shape, clear: false);
            ElementwiseParallel.For(ctx.Pool, x.Length, new Job(x, y));
        }

        private static bool Handles(DataType from, DataType to) => (from, to) is
            (DataType.Float, DataType.Float16 or DataType.Double or DataType.Int32 or DataType.Int64) or
            (DataType.Float16 or DataType.Double or DataType.Int32 or DataType.Int64 or DataType.Bool, DataType.Float);
    }

    private readonly struct Job(Tensor x, Tensor y) : IRangeJob
    {
        public void Run(int start, int end)
        {
            int n = end - start;
            switch (x.DataType, y.DataType)
            {
                case (DataType.Float, DataType.Float16): TensorPrimitives.ConvertToHalf(x.AsReadOnlySpan<float>().Slice(start, n), y.AsSpan<Half>().Slice(start, n)); break;
                case (DataType.Float16, DataType.Float): TensorPrimitives.ConvertToSingle(x.AsReadOnlySpan<Half>().Slice(start, n), y.AsSpan<float>().Slice(start, n)); break;
                case (DataType.Float, DataType.Double): TensorPrimitives.ConvertChecked<float, double>(x.AsReadOnlySpan<float>().Slice(start, n), y.AsSpan<double>().Slice(start, n)); break;
                case (DataType.Double, DataType.Float): TensorPrimitives.ConvertTruncating<double, float>(x.AsReadOnlySpan<double>().Slice(start, n), y.AsSpan<float>().Slice(start, n)); break;
                case (DataType.Int32, DataType.Float): TensorPrimitives.ConvertTruncating<int, float>(x.AsReadOnlySpan<int>().Slice(start, n), y.AsSpan<float>().Slice(start, n)); break;
                case (DataType.Float, DataType.Int32): ToInt32(x.AsReadOnlySpan<float>().Slice(start, n), y.AsSpan<int>().Slice(start, n)); break;
                case (DataType.Float, DataType.Int64):
                {
                    var s = x.AsReadOnlySpan<float>().Slice(start, n);
                    var d = y.AsSpan<long>().Slice(start, n);
                    for (int i = 0; i < n; i++) d[i] = s[i] >= -9223372036854775808f && s[i] < 9223372036854775808f ? (long)s[i] : long.MinValue;
                    break;
                }
                case (DataType.Int64, DataType.Float):
                {
                    // Through float64 as the reference does (values beyond 2^53 round twice there too).
                    var s = x.AsReadOnlySpan<long>().Slice(start, n);
                    var d = y.AsSpan<float>().Slice(start, n);
                    for (int i = 0; i < n; i++) d[i] = (float)(double)s[i];
                    break;
                }
                default:
                {
                    var s = x.AsReadOnlySpan<bool>().Slice(start, n);
                    var d = y.AsSpan<float>().Slice(start, n);
                    for (int i = 0; i < n; i++) d[i] = s[i] ? 1f : 0f;
                    break;
                }
            }
        }

        /// <summary>Truncation toward zero; NaN and values outside int32 give int32's minimum (x86's cvttps2dq, as the reference).</summary>
        private static void ToInt32(ReadOnlySpan<float> s, Span<int> d)
        {
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> lo = Vector256.Create(-2147483648f), hi = Vector256.Create(2147483648f);
                var min = Vector256.Create(int.MinValue);
                for (; i + 8 <= s.Length; i += 8)
                {
                    var v = Vector256.Create(s.Slice(i, 8));
                    var inRange = (Vector256.GreaterThanOrEqual(v, lo) & Vector256.LessThan(v, hi)).AsInt32();
                    Vector256.ConditionalSelect(inRange, Vector256.ConvertToInt32(v), min).CopyTo(d.Slice(i, 8));
                }
            }
            for (; i < s.Length; i++) d[i] = s[i] >= -2147483648f && s[i] < 2147483648f ? (int)s[i] : int.MinValue;
        }
    }
}
