using System.Buffers;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>
/// Softmax and LogSoftmax on float32 over contiguous rows (the last axis, and every axis before opset 13
/// where the tail is flattened): the row maximum in float32, e^(x - max) with the vector exp and its sum
/// in float64, then one float64 multiply (or subtraction of max + log sum) rounded once. Rows are split
/// over the worker pool. Over an inner axis (channels of NCHW, say) the same steps run on whole rows of
/// the trailing dims at a time, with per-column statistics in pooled scratch, split by columns.
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
            var y = ctx.AllocateOutput(0, DataType.Float, x.Shape, clear: false);
            if (inner != 1)
            {
                int n = x.Shape[a];
                ElementwiseParallel.For(ctx.Pool, x.Length / n, new Columns(x, y, n, inner, log), Math.Max(1, ElementwiseParallel.CostlyOpThreshold / n));
                return;
            }
            int row = 1;
            for (int d = a; d < rank; d++) row *= x.Shape[d];
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

    /// <summary>
    /// Columns [start, end) of X viewed as [outer, n, inner] (column c is outer block c / inner, position
    /// c % inner): a run of columns of one block at a time, each step over the n rows of the run.
    /// </summary>
    private readonly struct Columns(Tensor x, Tensor y, int n, int inner, bool log) : IRangeJob
    {
        public void Run(int start, int end)
        {
            var src = x.AsReadOnlySpan<float>();
            var dst = y.AsSpan<float>();
            int width = Math.Min(end - start, inner);
            var maxArray = ArrayPool<float>.Shared.Rent(width);
            var sumArray = ArrayPool<double>.Shared.Rent(width);
            while (start < end)
            {
                int block = start / inner, first = start % inner, count = Math.Min(inner - first, end - start);
                int origin = block * n * inner + first;
                var max = maxArray.AsSpan(0, count);
                var sums = sumArray.AsSpan(0, count);
                max.Fill(float.NegativeInfinity);
                for (int k = 0; k < n; k++) ElementwiseVectorLoops.Zip(new VectorOps.Max<float>(), max, src.Slice(origin + k * inner, count), max);
                sums.Clear();
                for (int k = 0; k < n; k++) NormalizationVector.ExpShifted(src.Slice(origin + k * inner, count), max, dst.Slice(origin + k * inner, count), sums);
                for (int i = 0; i < count; i++) sums[i] = log ? max[i] + Math.Log(sums[i]) : 1 / sums[i];
                for (int k = 0; k < n; k++)
                {
                    var rowOut = dst.Slice(origin + k * inner, count);
                    NormalizationVector.Affine(log ? src.Slice(origin + k * inner, count) : rowOut, rowOut, sums, subtract: log);
                }
                start += count;
            }
            ArrayPool<float>.Shared.Return(maxArray);
            ArrayPool<double>.Shared.Return(sumArray);
        }
    }
}
