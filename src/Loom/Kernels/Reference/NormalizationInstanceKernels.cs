using Loom.Kernels.Common;
using Loom.Runtime;
using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Reference;

/// <summary>
/// InstanceNormalization and GroupNormalization on X = <c>[N, C, spatial...]</c>: each (sample, channel
/// group) is one contiguous row, standardized with its own mean and variance, then scaled and shifted
/// per channel. InstanceNormalization is the case of one channel per group. GroupNormalization's scale
/// and bias are per group at opset 18 and per channel from 21.
/// </summary>
[KernelRegistrations]
internal static class NormalizationInstanceKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("InstanceNormalization", info => Create(info, groups: null, perGroupParams: false));
        r.Add("GroupNormalization", info =>
        {
            long groups = info.GetInt("num_groups", 0);
            if (groups <= 0) throw info.Fail("num_groups must be a positive integer");
            return Create(info, groups, perGroupParams: info.Opset < 21);
        }, sinceVersion: 18);
    }

    private static GroupKernel Create(KernelInfo info, long? groups, bool perGroupParams)
    {
        var dt = info.InputDataType(0);
        if (dt != DataType.Undefined && !ReduceTypeSwitch.IsFloating(dt))
            throw info.Unsupported($"{info.Node.OpType} does not support {dt.Name()} input");
        return new GroupKernel(groups, perGroupParams, info.GetFloat("epsilon", 1e-5f));
    }

    /// <param name="groups">Channel groups; null means one per channel (InstanceNormalization).</param>
    private sealed class GroupKernel(long? groups, bool perGroupParams, float epsilon) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank < 2) throw ctx.Fail($"X must be [N, C, ...], not {ShapeMath.Format(x.Shape)}");
            int c = x.Shape[1];
            int g = (int)(groups ?? c);
            if (g == 0 || c % g != 0) throw ctx.Fail($"{c} channels cannot be split into {g} groups");
            int paramLength = perGroupParams ? g : c;
            var scale = Read(ctx, 1, paramLength, "scale");
            var bias = Read(ctx, 2, paramLength, "bias");
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
            int spatial = (int)ShapeMath.Size(x.Shape[2..]);
            var work = new Work(x, y, g, c / g, spatial, perGroupParams, scale, bias, epsilon);
            if (!ReduceTypeSwitch.Floating(x.DataType, ref work))
                throw ctx.Fail($"{ctx.Node.OpType} does not support {x.DataType.Name()} input");
        }

        private static double[] Read(KernelContext ctx, int input, int length, string name)
        {
            var t = ctx.Input(input);
            if (t.Length != length) throw ctx.Fail($"{name} has {t.Length} elements, expected {length}");
            return ToDoubles(t);
        }
    }

    private readonly struct Work(Tensor x, Tensor y, int groups, int channelsPerGroup, int spatial, bool perGroupParams,
        double[] scale, double[] bias, float epsilon) : IReduceTypedAction
    {
        public void Invoke<T>() where T : unmanaged
        {
            var src = x.AsSpan<T>();
            var dst = y.AsSpan<T>();
            int rowLength = channelsPerGroup * spatial;
            int rows = rowLength == 0 ? 0 : src.Length / rowLength;
            for (int r = 0; r < rows; r++)
            {
                var row = src.Slice(r * rowLength, rowLength);
                var outRow = dst.Slice(r * rowLength, rowLength);
                var (mean, variance) = NormalizationStats.Moments(row);
                double inv = 1 / Math.Sqrt(variance + epsilon);
                int group = r % groups;
                for (int k = 0; k < channelsPerGroup; k++)
                {
                    int p = perGroupParams ? group : group * channelsPerGroup + k;
                    double a = scale[p], b = bias[p];
                    for (int i = k * spatial; i < (k + 1) * spatial; i++)
                    {
                        outRow[i] = FromDouble<T>((ToDouble(row[i]) - mean) * inv * a + b);
                    }
                }
            }
        }
    }
}
