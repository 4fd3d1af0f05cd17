using System.Collections.Immutable;
using Loom.IR;
using static Loom.Inference.Rules.ShapeRuleHelpers;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of Slice, Split and Concat, with the clamping arithmetic their kernels share.</summary>
[ShapeRules]
internal static class ShapeSliceRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("Slice", Slice);
        r.Add("Split", Split);
        r.Add("Concat", Concat);
    }

    /// <summary>
    /// ONNX slice bounds on a dim of size <paramref name="dim"/>: negative starts and ends count
    /// from the back, then clamp (to [0, dim] going forward, [0, dim-1] / [-1, dim-1] going backward).
    /// Returns the first index and the number of elements taken.
    /// </summary>
    public static (long Start, long Count) Bounds(long dim, long start, long end, long step)
    {
        if (start < 0) start += dim;
        // As ONNX Runtime: an end of INT32_MAX or INT64_MAX means "through the last element in the
        // step's direction" (NumPy's None), even going backwards.
        if (end is int.MaxValue or long.MaxValue) end = step < 0 ? -1 : dim;
        else if (end < 0) end += dim;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, dim);
            end = Math.Clamp(end, 0, dim);
            return (start, end > start ? (end - start + step - 1) / step : 0);
        }
        if (dim == 0) return (0, 0);
        start = Math.Clamp(start, 0, dim - 1);
        end = Math.Clamp(end, -1, dim - 1);
        return (start, start > end ? (start - end + (-step) - 1) / -step : 0);
    }

    /// <summary>
    /// Sizes of an equal split into <paramref name="parts"/>; with <paramref name="lastSmaller"/>
    /// (num_outputs) chunks of ceil(dim/parts) and a smaller last one. Null when impossible — including,
    /// as in ONNX Runtime, when the chunks leave nothing for the last part.
    /// </summary>
    public static long[]? EqualSplit(long dim, int parts, bool lastSmaller)
    {
        if (parts <= 0) return null;
        if (dim % parts == 0) return Enumerable.Repeat(dim / parts, parts).ToArray();
        if (!lastSmaller) return null;
        long chunk = (dim + parts - 1) / parts, last = dim - chunk * (parts - 1);
        return last <= 0 ? null : Enumerable.Range(0, parts).Select(i => i < parts - 1 ? chunk : last).ToArray();
    }

    private static void Slice(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var s = ctx.InputShape(0);
        ImmutableArray<Dim>? starts, ends, axes = null, steps = null;
        if (ctx.Opset < 10)
        {
            starts = ctx.GetInts("starts")?.Select(v => Dim.Of(v)).ToImmutableArray();
            ends = ctx.GetInts("ends")?.Select(v => Dim.Of(v)).ToImmutableArray();
            axes = ctx.GetInts("axes")?.Select(v => Dim.Of(v)).ToImmutableArray();
        }
        else
        {
            starts = ctx.ShapeValue(1);
            ends = ctx.ShapeValue(2);
            if (ctx.HasInput(3)) axes = ctx.ShapeValue(3) ?? (ImmutableArray<Dim>?)null;
            if (ctx.HasInput(4)) steps = ctx.ShapeValue(4) ?? (ImmutableArray<Dim>?)null;
        }
        if (s is null) { ctx.SetOutput(0, dt, null); return; }
        bool axesUnknown = ctx.Opset >= 10 && ctx.HasInput(3) && axes is null;
        bool stepsUnknown = ctx.Opset >= 10 && ctx.HasInput(4) && steps is null;
        if (starts is not { } st || ends is not { } en || axesUnknown || stepsUnknown)
        {
            // Which axes shrink, and by how much, is only known at run time.
            ctx.SetOutput(0, dt, FreshShape(ctx, s.Rank));
            return;
        }
        if (st.Length != en.Length) throw ctx.Fail($"starts has {st.Length} values but ends has {en.Length}");
        var dims = s.Dims.ToArray();
        var sliced = new bool[s.Rank];
        var startOf = new Dim?[s.Rank];
        var stepOf = new long[s.Rank];
        for (int i = 0; i < st.Length; i++)
        {
            var axisDim = axes is { } ax ? ax[i] : Dim.Of(i);
            if (axisDim.Value is not { } axisValue || (steps is { } sp0 && sp0[i].Value is null)) { ctx.SetOutput(0, dt, FreshShape(ctx, s.Rank)); return; }
            int a = ShapeHelpers.Axis(ctx, axisValue, s.Rank);
            if (sliced[a]) throw ctx.Fail($"axis {a} is sliced twice");
            sliced[a] = true;
            long step = steps is { } sp ? sp[i].Value!.Value : 1;
            if (step == 0) throw ctx.Fail("a step of 0 is not allowed");
            (dims[a], startOf[a]) = SliceDim(ctx, s[a], st[i], en[i], step);
            stepOf[a] = step;
        }
        var output = new Shape(dims);
        ctx.SetOutput(0, dt, output);

        // Slicing a tracked shape vector (Shape(x)[1:3]) keeps its symbols.
        if (IntValue(ctx, 0) is { } v && s.Rank == 1 && sliced[0] && startOf[0]?.Value is { } first && dims[0].Value is { } n)
            SetIntValue(ctx, 0, Enumerable.Range(0, (int)n).Select(k => v[(int)(first + k * stepOf[0])]).ToList(), dt, scalar: false);
        else if (IntValue(ctx, 0) is { } w && s.Rank == 1 && !sliced[0])
            SetIntValue(ctx, 0, w, dt, scalar: false);
    }

    /// <summary>
    /// The size (and first index, when known) of a sliced dim. Known numbers are exact; a symbolic dim or
    /// bound assumes the bound lies inside the dim (x[:, 1:] is d-1, x[:, :n] is n), as exported models use them.
    /// </summary>
    private static (Dim Size, Dim? Start) SliceDim(InferenceContext ctx, Dim dim, Dim start, Dim end, long step)
    {
        if (dim.Value is { } d && start.Value is { } s0 && end.Value is { } e0)
        {
            var (first, count) = Bounds(d, s0, e0, step);
            return (Dim.Of(count), Dim.Of(first));
        }
        const long Huge = int.MaxValue; // ends at or past this mean "to the end" (exporters write INT64_MAX or INT32_MAX)
        if (step > 0)
        {
            Dim s = start.Value is { } sv ? (sv < 0 ? dim + sv : dim.IsKnown ? Dim.Min(sv, dim) : sv) : start;
            Dim e = end.Value is { } ev ? (ev >= Huge ? dim : ev < 0 ? dim + ev : Dim.Min(ev, dim)) : end;
            var count = step == 1 ? e - s : Dim.CeilDiv(e - s, step);
            if (count.Value is < 0) count = Dim.Zero;
            return (count, s.IsKnown ? s : null);
        }
        // Backward over a symbolic dim: only the whole-range reverse (x[::-k]) has a simple size.
        if (start.Value is { } bs && (bs >= Huge || bs == -1) && end.Value is { } be && (be <= -Huge || be is int.MaxValue or long.MaxValue))
            return (step == -1 ? dim : Dim.CeilDiv(dim, -step), null);
        return (ctx.NewSymbol(), null);
    }

    private static void Split(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        int n = ctx.OutputCount;
        if (ctx.InputShape(0) is not { } s) { for (int i = 0; i < n; i++) ctx.SetOutput(i, dt, null); return; }
        int a = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 0), s.Rank);
        long numOutputs = ctx.Opset >= 18 ? ctx.GetInt("num_outputs", 0) : 0;
        long[]? split = ctx.Opset < 13 ? ctx.GetInts("split")?.ToArray() ?? (ctx.Opset == 1 && ctx.HasInput(1) ? ShapeHelpers.KnownInts(ctx, 1) : null)
            : ctx.HasInput(1) ? ShapeHelpers.KnownInts(ctx, 1) : null;
        bool splitUnknown = split is null && (ctx.Opset >= 13 || ctx.Opset == 1) && ctx.HasInput(1);
        Dim[] sizes;
        if (split is not null)
        {
            if (split.Length != n) throw ctx.Fail($"split has {split.Length} parts but the node has {n} outputs");
            if (s[a].Value is { } d && split.Sum() != d) throw ctx.Fail($"split [{string.Join(",", split)}] does not add up to dim {a} of {s}");
            sizes = split.Select(v => Dim.Of(v)).ToArray();
        }
        else if (splitUnknown) sizes = Enumerable.Range(0, n).Select(_ => ctx.NewSymbol()).ToArray();
        else if (s[a].Value is { } d)
            // An impossible split fails when it runs; here it may sit in an If branch that never does
            // (ONNX's own AffineGrid function splits [4] into 5 in its dead 3-D branch).
            sizes = EqualSplit(d, n, numOutputs > 0)?.Select(v => Dim.Of(v)).ToArray() ?? Enumerable.Range(0, n).Select(_ => ctx.NewSymbol()).ToArray();
        else if (numOutputs > 0 && n > 1)
        {
            // Chunks of ceil(d/n); the last takes the rest.
            var chunk = Dim.CeilDiv(s[a], n);
            sizes = Enumerable.Range(0, n).Select(i => i < n - 1 ? chunk : s[a] - chunk * (n - 1)).ToArray();
        }
        else sizes = Enumerable.Repeat(Dim.FloorDiv(s[a], n), n).ToArray();
        for (int i = 0; i < n; i++) ctx.SetOutput(i, dt, new Shape(s.Dims.SetItem(a, sizes[i])));
    }

    private static void Concat(InferenceContext ctx)
    {
        var dt = ctx.InputDataType(0);
        var shapes = Enumerable.Range(0, ctx.InputCount).Select(ctx.InputShape).ToList();
        var known = shapes.FirstOrDefault(x => x is not null);
        if (known is null) { ctx.SetOutput(0, dt, null); return; }
        int rank = known.Rank;
        int a = ShapeHelpers.Axis(ctx, ctx.GetInt("axis", 1), rank);
        var dims = new Dim[rank];
        for (int k = 0; k < rank; k++)
        {
            if (k == a) continue;
            // Prefer a known size over a symbol: all inputs must agree outside the axis.
            dims[k] = shapes.Select(x => x?[k]).FirstOrDefault(d => d is { IsKnown: true }) ?? known[k];
        }
        Dim total = Dim.Zero;
        foreach (var x in shapes)
        {
            if (x is null) { total = ctx.NewSymbol(); break; }
            if (x.Rank != rank) throw ctx.Fail($"inputs have ranks {rank} and {x.Rank}");
            for (int k = 0; k < rank; k++)
                if (k != a && x[k].IsKnown && dims[k].IsKnown && x[k] != dims[k]) throw ctx.Fail($"input shapes {known} and {x} differ outside axis {a}");
            total += x[a];
        }
        dims[a] = total;
        ctx.SetOutput(0, dt, new Shape(dims));

        // Concat(Shape(x)[0:1], [-1]) and friends: the tracked values concatenate.
        if (rank == 1 && dt is DataType.Int64 or DataType.Int32)
        {
            var parts = new List<Dim>();
            for (int i = 0; i < ctx.InputCount; i++)
            {
                if (IntValue(ctx, i) is not { } v) return;
                parts.AddRange(v);
            }
            SetIntValue(ctx, 0, parts, dt, scalar: false);
        }
    }
}
