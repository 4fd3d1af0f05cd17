using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>
/// A binary op on two float32 or float64 tensors with NumPy broadcasting: the output is walked in rows
/// of a <see cref="BroadcastPlan"/> (same shapes are one row; a per-channel operand is a row per channel
/// repeating one element), each row through the SIMD zip, split over the worker pool when large. The plan
/// for the last input shapes is kept (it is immutable, so concurrent runs may share it).
/// </summary>
internal sealed class FastBinaryKernel<TOp, T>(TOp op, Kernel reference) : Kernel
    where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
{
    private static readonly DataType Type = DataTypes.Of<T>();
    private BroadcastPlan? _plan;

    public override void Run(KernelContext ctx)
    {
        if (ctx.InputCount != 2 || ctx.InputValue(0) is not Tensor { } a || ctx.InputValue(1) is not Tensor { } b
            || a.DataType != Type || b.DataType != Type || Plan(a, b) is not { } plan)
        {
            reference.Run(ctx); // variadic forms, other dtypes, and shapes that do not broadcast (reported there)
            return;
        }
        var z = ctx.AllocateOutput(0, Type, plan.OutputShape, clear: false);
        ElementwiseParallel.For(ctx.Pool, plan.OutputLength, new ZipJob<TOp, T>(op, plan, a, b, z));
    }

    private BroadcastPlan? Plan(Tensor a, Tensor b)
    {
        var plan = Volatile.Read(ref _plan);
        if (plan is not null && plan.Matches(a.Shape, b.Shape)) return plan;
        if (!BroadcastPlan.CanBroadcast(a.Shape, b.Shape)) return null;
        plan = BroadcastPlan.Create(a.Dims, b.Dims);
        if (!plan.SupportsCursor) return null;
        Volatile.Write(ref _plan, plan);
        return plan;
    }
}

/// <summary>Output elements [start, end) of a broadcast binary op: a partial first row, whole rows, a partial last row.</summary>
internal readonly struct ZipJob<TOp, T>(TOp op, BroadcastPlan plan, Tensor a, Tensor b, Tensor z) : IRangeJob
    where TOp : struct, IVectorBinaryOp<T> where T : unmanaged
{
    public void Run(int start, int end)
    {
        var x = a.AsReadOnlySpan<T>();
        var y = b.AsReadOnlySpan<T>();
        var o = z.AsSpan<T>();
        int inner = plan.InnerLength, sx = plan.InnerStride(0), sy = plan.InnerStride(1);
        int col = start % inner;
        var row = plan.CursorAt(start / inner);
        while (start < end)
        {
            int n = Math.Min(inner - col, end - start);
            ElementwiseVectorLoops.ZipRow(op, x[(row.Offset0 + col * sx)..], sx, y[(row.Offset1 + col * sy)..], sy, o.Slice(start, n), n);
            start += n;
            col = 0;
            row.Next();
        }
    }
}
