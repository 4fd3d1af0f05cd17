using System.Collections.Immutable;
using Loom.IR;
using static Loom.Inference.Rules.ShapeRuleHelpers;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of the ops that rearrange dims without moving data: Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size.</summary>
[ShapeRules]
internal static class ShapeReshapeRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("Reshape", Reshape);
        r.Add("Flatten", Flatten);
        r.Add("Squeeze", Squeeze);
        r.Add("Unsqueeze", Unsqueeze);
        r.Add("Shape", ShapeOp);
        r.Add("Size", Size);
    }

    private static void Reshape(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        bool allowZero = ctx.Opset >= 14 && ctx.GetInt("allowzero", 0) != 0;
        ImmutableArray<Dim>? target = ctx.Opset < 5
            ? ctx.GetInts("shape")?.Select(v => Dim.Of(v)).ToImmutableArray()
            : ctx.ShapeValue(1);
        Shape? output = target is { } t ? ReshapeTarget(ctx, ctx.InputShape(0), t, allowZero)
            : ctx.Opset >= 5 && StaticLength(ctx, 1) is { } n ? FreshShape(ctx, n) : null;
        ctx.SetOutput(0, dt, output);
        if (IntValue(ctx, 0) is { } v && output is { Rank: <= 1 }) SetIntValue(ctx, 0, v, dt, output.Rank == 0);
    }

    /// <summary>Reshape's target with 0 (copy the input dim unless allowzero) and -1 (whatever is left) resolved symbolically.</summary>
    private static Shape ReshapeTarget(InferenceContext ctx, Shape? input, ImmutableArray<Dim> target, bool allowZero)
    {
        var dims = new Dim[target.Length];
        int inferred = -1;
        for (int i = 0; i < target.Length; i++)
        {
            var d = target[i];
            if (d.Value == -1)
            {
                if (inferred >= 0) throw ctx.Fail($"shape {Format(target)} has more than one -1");
                inferred = i;
            }
            else if (d.Value == 0 && !allowZero)
            {
                if (input is not null && i >= input.Rank) throw ctx.Fail($"shape {Format(target)} copies dim {i} (0) but the input {input} has rank {input.Rank}");
                dims[i] = input?[i] ?? ctx.NewSymbol();
            }
            else if (d.Value < -1) throw ctx.Fail($"shape {Format(target)} has the invalid dim {d}");
            else dims[i] = d;
        }
        if (inferred >= 0)
        {
            if (allowZero && dims.Any(d => d == Dim.Zero)) throw ctx.Fail($"shape {Format(target)} has both 0 and -1 with allowzero=1");
            var others = dims.Where((_, k) => k != inferred).ToList();
            if (input is null) dims[inferred] = ctx.NewSymbol();
            else if (others.Aggregate(Dim.One, (a, b) => a * b) == Dim.Zero) throw ctx.Fail($"cannot infer the -1 of shape {Format(target)} from input {input}: the other dims multiply to 0");
            else dims[inferred] = DivideProducts(input.Dims, others);
        }
        var result = new Shape(dims);
        if (input is not null && input.Size() is { IsKnown: true } a && result.Size() is { IsKnown: true } b && a != b)
            throw ctx.Fail($"cannot reshape {input} ({a} elements) to {result} ({b} elements)");
        return result;
    }

    private static string Format(ImmutableArray<Dim> dims) => "[" + string.Join(",", dims) + "]";

    private static void Flatten(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        if (ctx.InputShape(0) is not { } s) { ctx.SetOutput(0, dt, FreshShape(ctx, 2)); return; }
        long axis = ctx.GetInt("axis", 1);
        if (axis < -s.Rank || axis > s.Rank) throw ctx.Fail($"axis {axis} is out of range for rank {s.Rank}");
        int a = (int)(axis < 0 ? axis + s.Rank : axis);
        var outer = s.Dims.Take(a).Aggregate(Dim.One, (x, y) => x * y);
        var inner = s.Dims.Skip(a).Aggregate(Dim.One, (x, y) => x * y);
        ctx.SetOutput(0, dt, new Shape([outer, inner]));
    }

    private static void Squeeze(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var s = ctx.InputShape(0);
        long[]? axes = ctx.Opset < 13 ? ctx.GetInts("axes")?.ToArray() : ctx.HasInput(1) ? ShapeHelpers.KnownInts(ctx, 1) : [];
        bool allOnes = axes is { Length: 0 } || (ctx.Opset < 13 && axes is null);
        if (s is null || (axes is null && !allOnes)) { ctx.SetOutput(0, dt, null); return; }
        Shape? output;
        if (allOnes)
            // Which symbols are 1 is only known at run time; with none, the ones to drop are known.
            output = s.Dims.All(d => d.IsKnown) ? new Shape(s.Dims.Where(d => d != Dim.One)) : null;
        else
        {
            var drop = new HashSet<int>(axes!.Select(a => ShapeHelpers.Axis(ctx, a, s.Rank)));
            foreach (var a in drop)
                if (s[a].IsKnown && s[a] != Dim.One) throw ctx.Fail($"cannot squeeze axis {a} of {s}: its size is not 1");
            output = new Shape(s.Dims.Where((_, k) => !drop.Contains(k)));
        }
        ctx.SetOutput(0, dt, output);
        if (IntValue(ctx, 0) is { } v && output is { Rank: <= 1 }) SetIntValue(ctx, 0, v, dt, output.Rank == 0);
    }

    private static void Unsqueeze(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var s = ctx.InputShape(0);
        long[]? axes = ctx.Opset < 13 ? ctx.GetInts("axes")?.ToArray() : ShapeHelpers.KnownInts(ctx, 1);
        if (s is null) { ctx.SetOutput(0, dt, null); return; }
        if (axes is null)
        {
            ctx.SetOutput(0, dt, StaticLength(ctx, 1) is { } n ? FreshShape(ctx, s.Rank + n) : null);
            return;
        }
        int rank = s.Rank + axes.Length;
        var ones = new bool[rank];
        foreach (var a in axes)
        {
            int k = ShapeHelpers.Axis(ctx, a, rank);
            if (ones[k]) throw ctx.Fail($"axes [{string.Join(",", axes)}] name axis {k} twice");
            ones[k] = true;
        }
        var dims = new Dim[rank];
        for (int k = 0, j = 0; k < rank; k++) dims[k] = ones[k] ? Dim.One : s[j++];
        var output = new Shape(dims);
        ctx.SetOutput(0, dt, output);
        if (IntValue(ctx, 0) is { } v && output.Rank <= 1) SetIntValue(ctx, 0, v, dt, scalar: false);
    }

    private static void ShapeOp(InferenceContext ctx)
    {
        if (ctx.InputShape(0) is not { } s) { ctx.SetOutput(0, DataType.Int64, FreshShape(ctx, 1)); return; }
        var (start, end) = ShapeSliceBounds(s.Rank, ctx.Opset >= 15 ? ctx.GetInt("start", 0) : 0, ctx.Opset >= 15 ? ctx.GetInt("end", long.MaxValue) : long.MaxValue);
        var dims = s.Dims.Skip(start).Take(end - start).ToList();
        ctx.SetOutput(0, DataType.Int64, Shape.Of(dims.Count));
        SetIntValue(ctx, 0, dims, DataType.Int64, scalar: false);
    }

    /// <summary>Shape's start/end: negative counts from the back, then both clamp to [0, rank]; start past end is empty.</summary>
    public static (int Start, int End) ShapeSliceBounds(int rank, long start, long end)
    {
        static int Clamp(long v, int rank) => (int)Math.Clamp(v < 0 ? v + rank : v, 0, rank);
        int s = Clamp(start, rank), e = Clamp(end, rank);
        return (s, Math.Max(s, e));
    }

    private static void Size(InferenceContext ctx)
    {
        ctx.SetOutput(0, DataType.Int64, Shape.Scalar);
        if (ctx.InputShape(0) is { } s) SetIntValue(ctx, 0, [s.Size()], DataType.Int64, scalar: true);
    }
}
