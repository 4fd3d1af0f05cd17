using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>
/// Softmax and LogSoftmax on float32 over contiguous rows (the last axis, and every axis before opset 13
/// where the tail is flattened): the row maximum in float32, e^(x - max) with the vector exp and its sum
/// in float64, then one float64 multiply (or subtraction of max + log sum) rounded once. Rows are split
/// over the worker pool. Softmax over an inner axis goes to the reference kernel.
/// </summary>
[KernelRegistrations]
internal static class SoftmaxFastKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Softmax", info => Create(info, log: false), types: [DataType.Float], priority: ElementwiseFastKernels.Priority);
        r.Add("LogSoftmax", info => Create(info, log: true), types: [DataType.Float], priority: ElementwiseFastKernels.Priority);
    }

    private static Kernel Create(KernelInfo info, bool log)
    {
        bool coerce2D = info.Opset < 13;
        return new SoftmaxKernel(log, info.GetInt("axis", coerce2D ? 1 : -1), coerce2D, ReferenceKernels.Create(info));
    }

    private sealed class SoftmaxKernel(bool log, long axis, bool coerce2D, Kernel reference) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            int rank = x.Rank;
            if (x.DataType != DataType.Float || rank == 0 || axis < -rank || axis >= rank || x.Length == 0)
            {
                reference.Run(ctx);
                return;
            }
            int a = (int)(axis < 0 ? axis + rank : axis);
            int inner = 1;
            if (!coerce2D) for (int d = a + 1; d < rank; d++) inner *= x.Shape[d];
            if (inner != 1)
            {
                reference.Run(ctx);
                return;
            }
            int row = 1;
            for (int d = a; d < rank; d++) row *= x.Shape[d];
            var y = ctx.AllocateOutput(0, DataType.Float, x.Shape, clear: false);
            ElementwiseParallel.For(ctx.Pool, x.Length / row, new Rows(x, y, row, log), Math.Max(1, ElementwiseParallel.CostlyOpThreshold / row));
        }
    }

    private readonly struct Rows(Tensor x, Tensor y, int row, bool log) : IRangeJob
    {
        public void Run(int start, int end)
        {
            var src = x.AsReadOnlySpan<float>();
            var dst = y.AsSpan<float>();
            for (int r = start; r < end; r++)
            {
                var input = src.Slice(r * row, row);
                var output = dst.Slice(r * row, row);
                float max = ReduceVector.Fold(input, new VectorOps.Max<float>(), float.NegativeInfinity);
                double sum = NormalizationVector.ExpShifted(input, output, max);
                if (log) NormalizationVector.Affine(input, output, max + Math.Log(sum), subtract: true);
                else NormalizationVector.Affine(output, output, 1 / sum, subtract: false);
            }
        }
    }
}
