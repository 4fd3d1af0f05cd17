using System.Buffers;
using Loom.Kernels.Common;
using Loom.Kernels.Reference;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>
/// ReduceSum, ReduceMean, ReduceSumSquare, ReduceL1, ReduceL2, ReduceLogSum, ReduceMax and ReduceMin on
/// float32 with SIMD folds (<see cref="ReduceVector"/>): sums accumulate in float64 like the reference,
/// max/min are exact in float32. When only the innermost axes are reduced, output elements are
/// independent rows split over the worker pool; when the innermost axes are kept, input rows fold into
/// runs of outputs and the pool splits those runs by columns; other axis sets fold on one thread.
/// </summary>
[KernelRegistrations]
internal static class ReduceFastKernels
{
    public static void Register(KernelRegistry r)
    {
        foreach (var (op, kind, since) in ReduceKernels.Operators)
        {
            if (kind is ReduceKind.Prod or ReduceKind.LogSumExp) continue;
            r.Add(op, info =>
            {
                bool fromInput = info.Opset >= since;
                return new FastReduceKernel(kind, fromInput ? null : info.GetInts("axes")?.ToArray() ?? [], info.GetInt("keepdims", 1) != 0,
                    fromInput && info.GetInt("noop_with_empty_axes", 0) != 0, ReferenceKernels.Create(info));
            }, types: [DataType.Float], priority: ElementwiseFastKernels.Priority);
        }
    }
}

internal sealed class FastReduceKernel(ReduceKind kind, long[]? attributeAxes, bool keepDims, bool noopWithEmptyAxes, Kernel reference) : Kernel
{
    private ReducePlan? _plan;

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        if (x.DataType != DataType.Float || x.Length == 0 || x.Rank > 64 || ReducedAxes(ctx, x.Rank) is not { } mask)
        {
            reference.Run(ctx); // other dtypes, empty tensors, the no-op form, and bad axes (reported there)
            return;
        }
        var plan = Volatile.Read(ref _plan);
        if (plan is null || !plan.Matches(x.Shape, mask))
        {
            var axes = new List<int>();
            for (int d = 0; d < x.Rank; d++) if ((mask >> d & 1) != 0) axes.Add(d);
            Volatile.Write(ref _plan, plan = ReducePlan.Create(x.Shape, axes, keepDims));
        }
        var y = ctx.AllocateOutput(0, DataType.Float, plan.OutputShape, clear: false);
        switch (kind)
        {
            case ReduceKind.Max: Extreme(ctx, x, y, plan, new VectorOps.Max<float>(), float.NegativeInfinity); break;
            case ReduceKind.Min: Extreme(ctx, x, y, plan, new VectorOps.Min<float>(), float.PositiveInfinity); break;
            case ReduceKind.SumSquare or ReduceKind.L2: Sum(ctx, x, y, plan, new ReduceVector.Square()); break;
            case ReduceKind.L1: Sum(ctx, x, y, plan, new ReduceVector.Magnitude()); break;
            default: Sum(ctx, x, y, plan, new ReduceVector.Value()); break;
        }
    }

    /// <summary>Bit d set for each reduced axis d, or null for the no-op form and for axes the reference must reject.</summary>
    private ulong? ReducedAxes(KernelContext ctx, int rank)
    {
        ulong mask = 0;
        int count;
        if (attributeAxes is not null)
        {
            count = attributeAxes.Length;
            foreach (long a in attributeAxes) if (!Add(ref mask, a, rank)) return null;
        }
        else if (ctx.OptionalInput(1) is { } t && t.Length > 0)
        {
            count = t.Length;
            if (t.DataType == DataType.Int64) { foreach (long a in t.AsReadOnlySpan<long>()) if (!Add(ref mask, a, rank)) return null; }
            else if (t.DataType == DataType.Int32) { foreach (int a in t.AsReadOnlySpan<int>()) if (!Add(ref mask, a, rank)) return null; }
            else return null;
        }
        else count = 0;
        if (count > 0) return mask;
        return noopWithEmptyAxes ? null : rank == 64 ? ulong.MaxValue : (1UL << rank) - 1;
    }

    private static bool Add(ref ulong mask, long axis, int rank)
    {
        if (axis < -rank || axis >= rank) return false;
        ulong bit = 1UL << (int)(axis < 0 ? axis + rank : axis);
        if ((mask & bit) != 0) return false; // listed twice
        mask |= bit;
        return true;
    }

    /// <summary>The float64 sum of term(x) per output, then Mean/L2/LogSum's final step, rounded once.</summary>
    private void Sum<TTerm>(KernelContext ctx, Tensor x, Tensor y, ReducePlan plan, TTerm term) where TTerm : struct, IDoubleTerm
    {
        var finish = new Finish(kind, plan.ReducedCount);
        if (plan.OneRowPerOutput)
        {
            // Rows are independent: parallel over outputs (a chunk of rows per part).
            int row = plan.RowLength;
            ElementwiseParallel.For(ctx.Pool, y.Length, new RowSums<TTerm>(x, y, row, term, finish), Math.Max(1, ElementwiseParallel.CheapOpThreshold / row));
            return;
        }
        var acc = ArrayPool<double>.Shared.Rent(y.Length);
        var sums = acc.AsSpan(0, y.Length);
        sums.Clear();
        if (plan.RowReduces)
        {
            var src = x.AsReadOnlySpan<float>();
            var rows = plan.GetRows();
            while (rows.MoveNext()) sums[rows.OutputOffset] += ReduceVector.Sum(src.Slice(rows.InputOffset, plan.RowLength), term);
        }
        else ElementwiseParallel.For(ctx.Pool, plan.RowLength, new ColumnSums<TTerm>(x, acc, plan, term), ColumnThreshold(plan));
        var dst = y.AsSpan<float>();
        for (int i = 0; i < dst.Length; i++) dst[i] = finish.Apply(sums[i]);
        ArrayPool<double>.Shared.Return(acc);
    }

    private static void Extreme<TOp>(KernelContext ctx, Tensor x, Tensor y, ReducePlan plan, TOp op, float identity) where TOp : struct, IVectorBinaryOp<float>
    {
        if (plan.OneRowPerOutput)
        {
            int row = plan.RowLength;
            ElementwiseParallel.For(ctx.Pool, y.Length, new RowFolds<TOp>(x, y, row, op, identity), Math.Max(1, ElementwiseParallel.CheapOpThreshold / row));
            return;
        }
        var dst = y.AsSpan<float>();
        dst.Fill(identity);
        if (plan.RowReduces)
        {
            var src = x.AsReadOnlySpan<float>();
            var rows = plan.GetRows();
            while (rows.MoveNext()) dst[rows.OutputOffset] = op.Invoke(dst[rows.OutputOffset], ReduceVector.Fold(src.Slice(rows.InputOffset, plan.RowLength), op, identity));
        }
        else ElementwiseParallel.For(ctx.Pool, plan.RowLength, new ColumnFolds<TOp>(x, y, plan, op), ColumnThreshold(plan));
    }

    /// <summary>The parallel threshold in columns: each column carries one element of every input row.</summary>
    private static int ColumnThreshold(ReducePlan plan) => Math.Max(1, ElementwiseParallel.CheapOpThreshold / Math.Max(1, plan.InputLength / plan.RowLength));

    /// <summary>From a float64 sum to the output element: the mean's division, L2's root, LogSum's log.</summary>
    private readonly struct Finish(ReduceKind kind, long count)
    {
        public float Apply(double sum) => (float)(kind switch
        {
            ReduceKind.Mean => count > 0 ? sum / count : sum, // ONNX Runtime gives 0 for an empty mean
            ReduceKind.L2 => Math.Sqrt(sum),
            ReduceKind.LogSum => Math.Log(sum),
            _ => sum,
        });
    }

    private readonly struct RowSums<TTerm>(Tensor x, Tensor y, int row, TTerm term, Finish finish) : IRangeJob where TTerm : struct, IDoubleTerm
    {
        public void Run(int start, int end)
        {
            var src = x.AsReadOnlySpan<float>();
            var dst = y.AsSpan<float>();
            for (int o = start; o < end; o++) dst[o] = finish.Apply(ReduceVector.Sum(src.Slice(o * row, row), term));
        }
    }

    private readonly struct RowFolds<TOp>(Tensor x, Tensor y, int row, TOp op, float identity) : IRangeJob where TOp : struct, IVectorBinaryOp<float>
    {
        public void Run(int start, int end)
        {
            var src = x.AsReadOnlySpan<float>();
            var dst = y.AsSpan<float>();
            for (int o = start; o < end; o++) dst[o] = ReduceVector.Fold(src.Slice(o * row, row), op, identity);
        }
    }

    /// <summary>Columns [start, end) of every input row added into the float64 accumulators of their outputs.</summary>
    private readonly struct ColumnSums<TTerm>(Tensor x, double[] acc, ReducePlan plan, TTerm term) : IRangeJob where TTerm : struct, IDoubleTerm
    {
        public void Run(int start, int end)
        {
            var src = x.AsReadOnlySpan<float>();
            var rows = plan.GetRows();
            while (rows.MoveNext()) ReduceVector.Accumulate(src.Slice(rows.InputOffset + start, end - start), acc.AsSpan(rows.OutputOffset + start), term);
        }
    }

    /// <summary>Columns [start, end) of every input row folded into their outputs.</summary>
    private readonly struct ColumnFolds<TOp>(Tensor x, Tensor y, ReducePlan plan, TOp op) : IRangeJob where TOp : struct, IVectorBinaryOp<float>
    {
        public void Run(int start, int end)
        {
            var src = x.AsReadOnlySpan<float>();
            var dst = y.AsSpan<float>();
            var rows = plan.GetRows();
            while (rows.MoveNext())
            {
                var run = dst.Slice(rows.OutputOffset + start, end - start);
                ElementwiseVectorLoops.Zip(op, run, src.Slice(rows.InputOffset + start, end - start), run);
            }
        }
    }
}
