using Loom.IR;
using static Loom.Inference.Rules.ControlFlowTypeMerging;

namespace Loom.Inference.Rules;

/// <summary>
/// Shape rules of the sequence operators. A sequence's type is one element type covering all its
/// elements (the union of theirs); a tensor taken out of a sequence gets fresh symbols for the
/// symbolic dims (see <see cref="ControlFlowTypeMerging.FreshDims"/>).
/// </summary>
[ShapeRules]
internal static class SequenceRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("SequenceEmpty", SequenceEmpty);
        r.Add("SequenceConstruct", SequenceConstruct);
        r.Add("SequenceInsert", SequenceInsert);
        r.Add("SequenceErase", ShapeHelpers.SameAsInput);
        r.Add("SequenceAt", SequenceAt);
        r.Add("SequenceLength", ctx => ctx.SetOutput(0, DataType.Int64, Shape.Scalar));
        r.Add("SplitToSequence", SplitToSequence);
        r.Add("ConcatFromSequence", ConcatFromSequence);
        r.Add("SequenceMap", SequenceMap);
    }

    private static void SequenceEmpty(InferenceContext ctx) =>
        ctx.SetOutput(0, new SequenceType(new TensorType((DataType)ctx.GetInt("dtype", (long)DataType.Float), null)));

    private static void SequenceConstruct(InferenceContext ctx)
    {
        IrType? element = ctx.InputType(0);
        for (int i = 1; i < ctx.InputCount; i++) element = Union(ctx, element, ctx.InputType(i), "the elements");
        if (element is null && ctx.InputDataType(0) is var dt and not DataType.Undefined) element = new TensorType(dt, null);
        if (element is not null) ctx.SetOutput(0, new SequenceType(element));
    }

    private static void SequenceInsert(InferenceContext ctx)
    {
        var element = Union(ctx, ElementOf(ctx.InputType(0)), ctx.InputType(1), "the inserted tensor and the sequence's elements");
        var dt = ctx.InputDataType(1) is var t and not DataType.Undefined ? t : ElementOf(ctx.InputType(0))?.ElementType ?? DataType.Undefined;
        if (element is null && dt == DataType.Undefined) return;
        ctx.SetOutput(0, new SequenceType(element ?? new TensorType(dt, null)));
    }

    private static void SequenceAt(InferenceContext ctx)
    {
        if (ElementOf(ctx.InputType(0)) is { } e) ctx.SetOutput(0, FreshDims(ctx, e));
    }

    private static void SplitToSequence(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        if (ctx.InputShape(0) is not { } shape)
        {
            ctx.SetOutput(0, new SequenceType(new TensorType(dt, null)));
            return;
        }
        int axis = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), shape.Rank);
        var dims = shape.Dims.ToBuilder();
        if (!ctx.HasInput(1))
        {
            // Pieces of size 1; keepdims=0 drops the split axis.
            if (ctx.GetInt("keepdims", 1) == 0) dims.RemoveAt(axis);
            else dims[axis] = Dim.One;
        }
        else dims[axis] = PieceSize(ctx, shape[axis]) ?? ctx.NewSymbol();
        ctx.SetOutput(0, new SequenceType(new TensorType(dt, new Shape(dims.ToImmutable()))));
    }

    /// <summary>The size of every piece along the axis when they are all equal and known, else null.</summary>
    private static Dim? PieceSize(InferenceContext ctx, Dim axisDim)
    {
        var split = ShapeHelpers.KnownInts(ctx, 1);
        if (split is null || split.Length == 0) return null;
        if (ctx.InputShape(1) is { Rank: 0 })
        {
            // A scalar split cuts equal pieces; the last one is shorter unless the size divides evenly.
            long s = split[0];
            return s > 0 && axisDim.Value is { } n && n % s == 0 && n > 0 ? Dim.Of(s) : null;
        }
        return split.All(s => s == split[0]) ? Dim.Of(split[0]) : null;
    }

    private static void ConcatFromSequence(InferenceContext ctx)
    {
        if (ElementOf(ctx.InputType(0)) is not { } e) return;
        if (e.Shape is not { } shape)
        {
            ctx.SetOutput(0, e.ElementType, null);
            return;
        }
        bool newAxis = ctx.GetInt("new_axis", 0) != 0;
        int axis = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), shape.Rank + (newAxis ? 1 : 0));
        var dims = ((TensorType)FreshDims(ctx, e)!).Shape!.Dims;
        // The count of elements, hence the concatenated size, is only known at run time.
        dims = newAxis ? dims.Insert(axis, ctx.NewSymbol()) : dims.SetItem(axis, ctx.NewSymbol());
        ctx.SetOutput(0, e.ElementType, new Shape(dims));
    }

    /// <summary>The body runs once per element: sequence inputs give it one element, other inputs pass whole.</summary>
    private static void SequenceMap(InferenceContext ctx)
    {
        var body = ControlFlowRules.Body(ctx, "body");
        var inputs = new IrType?[ctx.InputCount];
        for (int i = 0; i < inputs.Length; i++)
            inputs[i] = ctx.InputType(i) is SequenceType s ? FreshDims(ctx, s.Element) : ctx.InputType(i);
        var outs = ctx.InferSubgraph(body, inputs);
        for (int i = 0; i < ctx.OutputCount && i < outs.Count; i++)
            if (outs[i] is { } t) ctx.SetOutput(i, new SequenceType(t));
    }
}
