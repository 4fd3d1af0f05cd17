using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>ArgMax and ArgMin: int64 index of the first (or, with select_last_index, last) extreme along one axis.</summary>
[KernelRegistrations]
internal static class ReduceArgKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("ArgMax", info => Create(info, max: true));
        r.Add("ArgMin", info => Create(info, max: false));
    }

    private static ArgKernel Create(KernelInfo info, bool max)
    {
        var dt = info.InputDataType(0);
        if (dt != DataType.Undefined && !ReduceTypeSwitch.IsNumeric(dt))
            throw info.Unsupported($"{info.Node.OpType} does not support {dt.Name()} input");
        return new ArgKernel(max, info.GetInt("axis", 0), info.GetInt("keepdims", 1) != 0, info.GetInt("select_last_index", 0) != 0);
    }

    private sealed class ArgKernel(bool max, long axis, bool keepDims, bool selectLast) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            int a = ReduceAxes.Single(axis, x.Rank, ctx.Fail);
            var (outer, n, inner) = ReduceAxes.Split(x.Shape, a);
            var shape = x.Shape.ToArray();
            if (n == 0 && outer * inner > 0) throw ctx.Fail($"cannot take {ctx.Node.OpType} over axis {a} of size 0");
            var outShape = keepDims ? shape.Select((d, i) => i == a ? 1 : d).ToArray() : shape.Where((_, i) => i != a).ToArray();
            var y = ctx.AllocateOutput(0, DataType.Int64, outShape);
            var work = new Work(x, y, outer, n, inner, max, selectLast);
            if (!ReduceTypeSwitch.Numeric(x.DataType, ref work))
                throw ctx.Fail($"{ctx.Node.OpType} does not support {x.DataType.Name()} input");
        }
    }

    private readonly struct Work(Tensor x, Tensor y, int outer, int n, int inner, bool max, bool selectLast) : IReduceTypedAction
    {
        public void Invoke<T>() where T : unmanaged
        {
            var src = x.AsSpan<T>();
            var dst = y.AsSpan<long>();
            var best = new T[inner];
            for (int o = 0; o < outer; o++)
            {
                // Scan k in order, one contiguous inner row at a time, tracking the best value per column.
                var index = dst.Slice(o * inner, inner);
                src.Slice(o * n * inner, inner).CopyTo(best);
                index.Clear();
                for (int k = 1; k < n; k++)
                {
                    var row = src.Slice((o * n + k) * inner, inner);
                    for (int i = 0; i < inner; i++)
                        if (ReduceNumerics.Beats(row[i], best[i], max, selectLast)) { best[i] = row[i]; index[i] = k; }
                }
            }
        }
    }
}
