using Loom.Kernels.Common;
using Loom.Runtime;
using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Reference;

/// <summary>
/// Softmax, LogSoftmax and Hardmax. Before opset 13 the input is coerced to 2-D at <c>axis</c> (default 1)
/// and the op runs over the whole flattened tail; from 13 on it runs over the single <c>axis</c> (default -1).
/// Computed in double with the row maximum subtracted, so large inputs do not overflow.
/// </summary>
[KernelRegistrations]
internal static class SoftmaxKernels
{
    public enum Kind { Softmax, LogSoftmax, Hardmax }

    public static void Register(KernelRegistry r)
    {
        r.Add("Softmax", info => Create(info, Kind.Softmax));
        r.Add("LogSoftmax", info => Create(info, Kind.LogSoftmax));
        r.Add("Hardmax", info => Create(info, Kind.Hardmax));
    }

    private static SoftmaxKernel Create(KernelInfo info, Kind kind)
    {
        var dt = info.InputDataType(0);
        if (dt != DataType.Undefined && !ReduceTypeSwitch.IsFloating(dt))
            throw info.Unsupported($"{info.Node.OpType} does not support {dt.Name()} input");
        bool coerce2D = info.Opset < 13;
        return new SoftmaxKernel(kind, info.GetInt("axis", coerce2D ? 1 : -1), coerce2D);
    }

    private sealed class SoftmaxKernel(Kind kind, long axis, bool coerce2D) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
            int outer, n, inner;
            if (x.Rank == 0) (outer, n, inner) = (1, 1, 1); // a scalar is a single-element row
            else
            {
                int a = ReduceAxes.Single(axis, x.Rank, ctx.Fail);
                if (coerce2D) { (outer, n) = ReduceAxes.SplitBefore(x.Shape, a); inner = 1; }
                else (outer, n, inner) = ReduceAxes.Split(x.Shape, a);
            }
            var work = new Work(kind, x, y, outer, n, inner);
            if (!ReduceTypeSwitch.Floating(x.DataType, ref work))
                throw ctx.Fail($"{ctx.Node.OpType} does not support {x.DataType.Name()} input");
        }
    }

    private readonly struct Work(Kind kind, Tensor x, Tensor y, int outer, int n, int inner) : IReduceTypedAction
    {
        public void Invoke<T>() where T : unmanaged
        {
            var src = x.AsSpan<T>();
            var dst = y.AsSpan<T>();
            // Per inner column statistics; rows of `inner` contiguous elements are walked in order.
            var max = new double[inner];
            var sum = new double[inner];
            var arg = new int[inner];
            for (int o = 0; o < outer; o++)
            {
                var block = src.Slice(o * n * inner, n * inner);
                var outBlock = dst.Slice(o * n * inner, n * inner);
                if (kind == Kind.Hardmax) { Hardmax(block, outBlock, arg); continue; }
                max.AsSpan().Fill(double.NegativeInfinity);
                sum.AsSpan().Clear();
                for (int k = 0; k < n; k++)
                {
                    var row = block.Slice(k * inner, inner);
                    for (int i = 0; i < inner; i++) max[i] = Math.Max(max[i], ToDouble(row[i]));
                }
                for (int k = 0; k < n; k++)
                {
                    var row = block.Slice(k * inner, inner);
                    for (int i = 0; i < inner; i++) sum[i] += Math.Exp(ToDouble(row[i]) - max[i]);
                }
                for (int k = 0; k < n; k++)
                {
                    var row = block.Slice(k * inner, inner);
                    var outRow = outBlock.Slice(k * inner, inner);
                    for (int i = 0; i < inner; i++)
                    {
                        double shifted = ToDouble(row[i]) - max[i];
                        outRow[i] = FromDouble<T>(kind == Kind.Softmax ? Math.Exp(shifted) / sum[i] : shifted - Math.Log(sum[i]));
                    }
                }
            }
        }

        /// <summary>1 at the first maximum of each column, 0 elsewhere (the output starts zeroed).</summary>
        private void Hardmax<T>(ReadOnlySpan<T> block, Span<T> outBlock, int[] arg) where T : unmanaged
        {
            if (n == 0) return;
            Array.Clear(arg);
            for (int k = 1; k < n; k++)
                for (int i = 0; i < inner; i++)
                    if (Beats(block[k * inner + i], block[arg[i] * inner + i], max: true, onTie: false)) arg[i] = k;
            for (int i = 0; i < inner; i++) outBlock[arg[i] * inner + i] = FromDouble<T>(1);
        }
    }
}
