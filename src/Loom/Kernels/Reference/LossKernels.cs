using Loom.Kernels.Common;
using Loom.Runtime;
using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Reference;

/// <summary>
/// NegativeLogLikelihoodLoss (opset 12, 13, 22) and SoftmaxCrossEntropyLoss (opset 12, 13): input
/// <c>[N, C, d1, ...]</c>, integer targets <c>[N, d1, ...]</c>, optional per-class weights, optional
/// ignore_index, reduction none/sum/mean. SoftmaxCrossEntropyLoss is the NLL of LogSoftmax over axis 1,
/// which it can also return as a second output.
/// </summary>
[KernelRegistrations]
internal static class LossKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("NegativeLogLikelihoodLoss", info => Create(info, softmax: false), sinceVersion: 12);
        r.Add("SoftmaxCrossEntropyLoss", info => Create(info, softmax: true), sinceVersion: 12);
    }

    private static LossKernel Create(KernelInfo info, bool softmax)
    {
        var dt = info.InputDataType(0);
        if (dt != DataType.Undefined && !ReduceTypeSwitch.IsFloating(dt))
            throw info.Unsupported($"{info.Node.OpType} does not support {dt.Name()} input");
        var reduction = LossNll.ParseReduction(info.GetString("reduction", "mean"), info.Fail);
        long? ignoreIndex = info.Node.HasAttribute("ignore_index") ? info.GetInt("ignore_index", 0) : null;
        return new LossKernel(softmax, reduction, ignoreIndex);
    }

    private sealed class LossKernel(bool softmax, LossReduction reduction, long? ignoreIndex) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var target = ctx.Input(1);
            if (x.Rank < 2) throw ctx.Fail($"input must be [N, C, ...], not {ShapeMath.Format(x.Shape)}");
            int n = x.Shape[0], c = x.Shape[1];
            int d = (int)ShapeMath.Size(x.Shape[2..]);
            if (target.Rank != x.Rank - 1 || target.Shape[0] != n || !target.Shape[1..].SequenceEqual(x.Shape[2..]))
                throw ctx.Fail($"target of shape {ShapeMath.Format(target.Shape)} does not match input of shape {ShapeMath.Format(x.Shape)}");
            double[]? weight = ctx.OptionalInput(2) is { } w ? ToDoubles(w) : null;
            if (weight is not null && weight.Length != c) throw ctx.Fail($"weight has {weight.Length} elements, expected {c}");
            var labels = ReduceAxes.Read(target, ctx.Fail, "target");

            double[] loss;
            double weightSum;
            if (softmax)
            {
                var logProb = LogSoftmaxOverClasses(x, n, c, d);
                if (ctx.IsOutputRequested(1)) FromDoubles(logProb, ctx.AllocateOutput(1, x.DataType, x.Shape));
                (loss, weightSum) = LossNll.Compute<double>(logProb, labels, weight, n, c, d, ignoreIndex, ctx.Fail);
            }
            else
            {
                var action = new NllAction(x, labels, weight, n, c, d, ignoreIndex, ctx.Fail);
                if (!ReduceTypeSwitch.Floating(x.DataType, ref action))
                    throw ctx.Fail($"{ctx.Node.OpType} does not support {x.DataType.Name()} input");
                (loss, weightSum) = (action.Loss, action.WeightSum);
            }
            var result = LossNll.Reduce(loss, weightSum, reduction);
            FromDoubles(result, ctx.AllocateOutput(0, x.DataType, reduction == LossReduction.None ? target.Shape : []));
        }

        private static double[] LogSoftmaxOverClasses(Tensor x, int n, int c, int d)
        {
            var values = ToDoubles(x);
            var max = new double[d];
            var sum = new double[d];
            for (int b = 0; b < n; b++)
            {
                var block = values.AsSpan(b * c * d, c * d);
                max.AsSpan().Fill(double.NegativeInfinity);
                sum.AsSpan().Clear();
                for (int k = 0; k < c; k++)
                    for (int i = 0; i < d; i++) max[i] = Math.Max(max[i], block[k * d + i]);
                for (int k = 0; k < c; k++)
                    for (int i = 0; i < d; i++) sum[i] += Math.Exp(block[k * d + i] - max[i]);
                for (int i = 0; i < d; i++) sum[i] = max[i] + Math.Log(sum[i]);
                for (int k = 0; k < c; k++)
                    for (int i = 0; i < d; i++) block[k * d + i] -= sum[i];
            }
            return values;
        }
    }

    private struct NllAction(Tensor x, long[] labels, double[]? weight, int n, int c, int d, long? ignoreIndex, Func<string, Exception> fail) : IReduceTypedAction
    {
        public double[] Loss = [];
        public double WeightSum;

        public void Invoke<T>() where T : unmanaged =>
            (Loss, WeightSum) = LossNll.Compute(x.AsSpan<T>(), labels, weight, n, c, d, ignoreIndex, fail);
    }
}
