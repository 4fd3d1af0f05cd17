using Loom.IR;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>If; the registrations of Loop and Scan (in their own files); helpers they share.</summary>
[KernelRegistrations]
internal static class ControlFlowKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("If", CreateIf);
        r.Add("Loop", ControlFlowLoop.Create);
        r.Add("Scan", ControlFlowScan.Create, sinceVersion: 8);
    }

    private static Kernel CreateIf(KernelInfo info)
    {
        var then = info.CompileSubgraph(Body(info, "then_branch"));
        var otherwise = info.CompileSubgraph(Body(info, "else_branch"));
        int n = info.Node.Outputs.Length;
        if (then.Graph.Outputs.Length < n || otherwise.Graph.Outputs.Length < n)
            throw info.Fail($"If has {n} outputs but its branches produce {then.Graph.Outputs.Length} and {otherwise.Graph.Outputs.Length}");
        return new IfKernel(then, otherwise);
    }

    private sealed class IfKernel(CompiledGraph then, CompiledGraph otherwise) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var outputs = ctx.RunSubgraph(ScalarBool(ctx, ctx.Input(0), "cond") ? then : otherwise, []);
            for (int i = 0; i < ctx.OutputCount; i++) ctx.SetOutput(i, outputs[i]);
        }
    }

    public static Graph Body(KernelInfo info, string attribute) =>
        info.GetGraph(attribute) ?? throw info.Fail($"{info.Node.OpType} has no '{attribute}' graph attribute");

    /// <summary>The single element of a bool tensor (a condition).</summary>
    public static bool ScalarBool(KernelContext ctx, LoomValue? value, string what) => value switch
    {
        Tensor { DataType: DataType.Bool, Length: 1 } t => t.AsSpan<bool>()[0],
        _ => throw ctx.Fail($"{what} must be a bool tensor of one element, not {value?.Type.ToString() ?? "missing"}"),
    };

    /// <summary>The single element of an integer tensor (a trip count, a position).</summary>
    public static long ScalarLong(KernelContext ctx, LoomValue? value, string what) => value switch
    {
        Tensor { DataType: DataType.Int64, Length: 1 } t => t.AsSpan<long>()[0],
        Tensor { DataType: DataType.Int32, Length: 1 } t => t.AsSpan<int>()[0],
        _ => throw ctx.Fail($"{what} must be an int64 or int32 tensor of one element, not {value?.Type.ToString() ?? "missing"}"),
    };

    /// <summary>Normalises an axis attribute, failing with the node's name when out of range.</summary>
    public static int Axis(KernelContext ctx, long axis, int rank, string what = "axis")
    {
        if (axis < -rank || axis >= rank) throw ctx.Fail($"{what} {axis} is out of range for rank {rank}");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    /// <summary>A per-iteration output, which must be a tensor of the same shape each time.</summary>
    public static Tensor IterationTensor(KernelContext ctx, LoomValue value, Tensor? first, string what)
    {
        if (value is not Tensor t) throw ctx.Fail($"{what} is {value.Type}; it must be a tensor");
        if (first is not null && (t.DataType != first.DataType || !t.Shape.SequenceEqual(first.Shape)))
            throw ctx.Fail($"{what} is {t} in one iteration but {first} in the first; its shape must not change");
        return t;
    }

    /// <summary>
    /// The per-iteration shape to give a stacked output when no iteration ran: the inferred one, its
    /// symbols at their values in this run, unbound ones 0 (as ONNX Runtime does for symbolic dims), or
    /// [] when even the rank is unknown.
    /// </summary>
    public static (DataType, int[]) EmptyIterationShape(KernelContext ctx, IrType? inferred, DataType fallback)
    {
        var t = inferred as TensorType;
        var dt = t?.ElementType is { } e && e != DataType.Undefined ? e : fallback;
        var dims = t?.Shape?.Dims.Select(d => (int)Math.Clamp(ctx.EvaluateDim(d) ?? 0, 0, int.MaxValue)).ToArray() ?? [];
        return (dt == DataType.Undefined ? DataType.Float : dt, dims);
    }

    /// <summary>Stacks per-iteration tensors along <paramref name="axis"/> (reversed when <paramref name="prepend"/>) into output <paramref name="output"/>.</summary>
    public static void StackOutput(KernelContext ctx, int output, IReadOnlyList<Tensor> parts, int axis, bool prepend, DataType dt, int[] elementDims)
    {
        int[] dims = [.. elementDims[..axis], parts.Count, .. elementDims[axis..]];
        var result = ctx.AllocateOutput(output, dt, dims);
        for (int i = 0; i < parts.Count; i++)
            Common.SequenceTensorCopy.CopyInto(result, axis, prepend ? parts.Count - 1 - i : i, parts[i]);
    }
}
