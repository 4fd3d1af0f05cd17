using Loom.IR;
using static Loom.Inference.Rules.ControlFlowTypeMerging;

namespace Loom.Inference.Rules;

/// <summary>Shape rules of If, Loop and Scan: they infer their subgraphs and combine the results.</summary>
[ShapeRules]
internal static class ControlFlowRules
{
    public static void Register(ShapeRules r)
    {
        r.Add("If", If);
        r.Add("Loop", Loop);
        r.Add("Scan", Scan);
    }

    private static readonly TensorType Int64Scalar = new(DataType.Int64, Shape.Scalar);
    private static readonly TensorType BoolScalar = new(DataType.Bool, Shape.Scalar);

    public static Graph Body(InferenceContext ctx, string attribute) =>
        ctx.Node.GetAttribute(attribute)?.AsGraph() ?? throw ctx.Fail($"{ctx.Node.OpType} has no '{attribute}' graph attribute");

    /// <summary>Either branch may run, so each output has the union of the two branches' types.</summary>
    private static void If(InferenceContext ctx)
    {
        var then = ctx.InferSubgraph(Body(ctx, "then_branch"), []);
        var otherwise = ctx.InferSubgraph(Body(ctx, "else_branch"), []);
        if (then.Count != otherwise.Count)
            throw ctx.Fail($"then_branch has {then.Count} outputs but else_branch has {otherwise.Count}");
        if (ctx.OutputCount > then.Count)
            throw ctx.Fail($"If has {ctx.OutputCount} outputs but its branches produce {then.Count}");
        for (int i = 0; i < ctx.OutputCount; i++)
            ctx.SetOutput(i, Union(ctx, then[i], otherwise[i], $"output {i} of the branches"));
    }

    /// <summary>Body inputs (iteration, cond, carried…) and outputs (cond, carried…, scan outputs…).</summary>
    private static void Loop(InferenceContext ctx)
    {
        var body = Body(ctx, "body");
        int carried = Math.Max(0, ctx.InputCount - 2);
        if (body.Inputs.Length != carried + 2)
            throw ctx.Fail($"the body has {body.Inputs.Length} inputs; a Loop with {carried} loop-carried values needs {carried + 2}");
        int scans = body.Outputs.Length - 1 - carried;
        if (scans < 0) throw ctx.Fail($"the body has {body.Outputs.Length} outputs; {carried} loop-carried values need at least {carried + 1}");

        var inputs = new IrType?[carried + 2];
        inputs[0] = Int64Scalar;
        inputs[1] = BoolScalar;
        for (int i = 0; i < carried; i++) inputs[2 + i] = AdaptToDeclared(ctx.InputType(2 + i), body.Inputs[2 + i].Type);
        var outs = InferIterated(ctx, body, inputs, firstCarriedInput: 2, firstCarriedOutput: 1, carried);

        for (int i = 0; i < carried; i++) ctx.SetOutput(i, FinalCarried(ctx, ctx.InputType(2 + i), outs[1 + i], i));
        var iterations = TripCount(ctx, body);
        for (int k = 0; k < scans && carried + k < ctx.OutputCount; k++)
            ctx.SetOutput(carried + k, Stacked(ctx, outs[1 + carried + k], iterations ?? ctx.NewSymbol(), 0, k));
    }

    /// <summary>
    /// The number of iterations when it is M: M is known (a constant or a symbolic shape value), the
    /// cond input is omitted or constant true, and the body passes its condition through unchanged.
    /// </summary>
    private static Dim? TripCount(InferenceContext ctx, Graph body)
    {
        if (ctx.ShapeValue(0) is not { Length: 1 } m) return null;
        var trip = m[0].Value is < 0 ? Dim.Zero : m[0];
        if (ctx.HasInput(1))
        {
            if (ctx.ConstantInput(1) is not { DataType: DataType.Bool, Length: 1 } cond) return null;
            if (!cond.AsSpan<bool>()[0]) return Dim.Zero;
        }
        string condIn = body.Inputs[1].Name, condOut = body.Outputs[0].Name;
        bool passedThrough = condOut == condIn
            || body.Nodes.Any(n => n.OpType == "Identity" && n.Domain.Length == 0 && n.Outputs[0] == condOut && n.Inputs[0] == condIn);
        return passedThrough ? trip : null;
    }

    private static void Scan(InferenceContext ctx)
    {
        var body = Body(ctx, "body");
        int m = (int)ctx.GetInt("num_scan_inputs", -1);
        bool batched = ctx.Opset < 9; // Scan-8: input 0 is sequence_lens, every input has a batch axis 0
        int first = batched ? 1 : 0;
        int states = ctx.InputCount - first - m;
        if (m < 1 || states < 0) throw ctx.Fail($"num_scan_inputs {m} does not fit {ctx.InputCount} inputs");
        if (body.Inputs.Length != states + m)
            throw ctx.Fail($"the body has {body.Inputs.Length} inputs; {states} states and {m} scan inputs need {states + m}");
        int scans = body.Outputs.Length - states;
        if (scans < 0) throw ctx.Fail($"the body has {body.Outputs.Length} outputs, fewer than its {states} states");

        var inputAxes = ctx.GetInts("scan_input_axes");
        Dim? batch = null, length = null;
        var inputs = new IrType?[states + m];
        for (int i = 0; i < states; i++)
        {
            var t = ctx.InputType(first + i);
            if (batched) t = DropAxis(t, 0, ref batch);
            inputs[i] = t;
        }
        for (int j = 0; j < m; j++)
        {
            var t = ctx.InputType(first + states + j);
            if (batched) inputs[states + j] = DropAxis(DropAxis(t, 0, ref batch), 0, ref length);
            else
            {
                long axis = inputAxes is { } a && j < a.Length ? a[j] : 0;
                int? rank = (t as TensorType)?.Rank;
                inputs[states + j] = rank is { } r ? DropAxis(t, ShapeHelpers.Axis(ctx, axis, r), ref length) : t;
            }
        }
        length ??= ctx.NewSymbol();
        var initial = (IrType?[])inputs.Clone();
        var outs = InferIterated(ctx, body, inputs, firstCarriedInput: 0, firstCarriedOutput: 0, states);

        var outputAxes = ctx.GetInts("scan_output_axes");
        for (int i = 0; i < states && i < ctx.OutputCount; i++)
        {
            var final = FinalCarried(ctx, initial[i], outs[i], i);
            ctx.SetOutput(i, batched ? Stacked(ctx, final, batch ??= ctx.NewSymbol(), 0, i) : final);
        }
        for (int k = 0; k < scans && states + k < ctx.OutputCount; k++)
        {
            var type = batched
                ? Stacked(ctx, Stacked(ctx, outs[states + k], length, 0, k), batch ??= ctx.NewSymbol(), 0, k)
                : Stacked(ctx, outs[states + k], length, outputAxes is { } a && k < a.Length ? a[k] : 0, k);
            ctx.SetOutput(states + k, type);
        }
    }

    /// <summary>Removes dim <paramref name="axis"/>, noting its size in <paramref name="size"/> (the first known one wins).</summary>
    private static IrType? DropAxis(IrType? t, int axis, ref Dim? size)
    {
        if (t is not TensorType { Shape: { } s } tt || axis >= s.Rank) return t;
        if (size is null || (!size.IsKnown && s[axis].IsKnown)) size = s[axis];
        return new TensorType(tt.ElementType, new Shape(s.Dims.RemoveAt(axis)));
    }

    /// <summary>The type of per-iteration values <paramref name="element"/> stacked along a new axis of size <paramref name="count"/>.</summary>
    private static IrType? Stacked(InferenceContext ctx, IrType? element, Dim count, long axis, int which)
    {
        if (element is null) return null;
        if (element is not TensorType t) throw ctx.Fail($"scan output {which} is {element}; scan outputs must be tensors");
        if (t.Shape is null) return t;
        int at = ShapeHelpers.Axis(ctx, axis, t.Shape.Rank + 1);
        return new TensorType(t.ElementType, new Shape(t.Shape.Dims.Insert(at, count)));
    }

    /// <summary>A body input declared optional receives the carried value as an optional, even when the Loop's input is not one.</summary>
    private static IrType? AdaptToDeclared(IrType? given, IrType? declared) =>
        declared is OptionalType && given is not null and not OptionalType ? new OptionalType(given) : given;

    /// <summary>
    /// Infers a body run once per iteration with loop-carried values. The first pass gives each carried
    /// input the type of its initial value; where the body returns a different type, the value changes
    /// across iterations, so the input is widened (differing dims become fresh symbols, a changing rank
    /// becomes unknown rank) and the body inferred again, until its outputs fit its inputs. Fresh symbols
    /// of body inputs are bound per iteration at run time (each subgraph run has its own bindings).
    /// </summary>
    public static IReadOnlyList<IrType?> InferIterated(InferenceContext ctx, Graph body, IrType?[] inputs, int firstCarriedInput, int firstCarriedOutput, int carried)
    {
        var fresh = new HashSet<string>();
        for (int pass = 0; ; pass++)
        {
            var outs = ctx.InferSubgraph(body, inputs);
            if (outs.Count < firstCarriedOutput + carried)
                throw ctx.Fail($"the body has {outs.Count} outputs, too few for {carried} loop-carried values");
            bool changed = false;
            for (int i = 0; i < carried; i++)
            {
                int at = firstCarriedInput + i;
                var widened = Widen(ctx, inputs[at], outs[firstCarriedOutput + i], fresh, giveUp: pass >= 3);
                if (widened is not null) { inputs[at] = widened; changed = true; }
            }
            if (!changed) return outs;
        }
    }

    /// <summary>
    /// Null when <paramref name="input"/> already covers <paramref name="produced"/> (same rank, each dim
    /// equal or one of the <paramref name="fresh"/> symbols); otherwise the widened input type.
    /// <paramref name="giveUp"/> makes every dim fresh at once so that the passes end.
    /// </summary>
    private static IrType? Widen(InferenceContext ctx, IrType? input, IrType? produced, HashSet<string> fresh, bool giveUp)
    {
        if (input is OptionalType o)
            return Widen(ctx, o.Element, Unwrap(produced), fresh, giveUp) is { } w ? new OptionalType(w) : null;
        produced = Unwrap(produced);
        switch (input)
        {
            case SequenceType s:
                var element = produced is SequenceType ps ? ps.Element : null;
                return Widen(ctx, s.Element, element, fresh, giveUp) is { } we ? new SequenceType(we) : null;
            case TensorType { Shape: { } shape } t:
                if (produced is not TensorType { Shape: { } ps2 } || ps2.Rank != shape.Rank)
                    return new TensorType(t.ElementType, null); // unknown or changing rank
                bool changed = false;
                var dims = shape.Dims.Select((d, k) =>
                {
                    if (d == ps2[k] || d.SymbolName is { } n && fresh.Contains(n)) return d;
                    changed = true;
                    return Fresh(ctx, fresh);
                }).ToList();
                if (!changed) return null;
                if (giveUp) dims = shape.Dims.Select(_ => Fresh(ctx, fresh)).ToList();
                return new TensorType(t.ElementType, new Shape(dims));
            default:
                return null; // unknown input type, or unknown rank: nothing to widen
        }
    }

    private static Dim Fresh(InferenceContext ctx, HashSet<string> fresh)
    {
        var d = ctx.NewSymbol();
        fresh.Add(d.SymbolName!);
        return d;
    }

    /// <summary>
    /// The type of a loop-carried value after the loop: the initial value if no iteration runs, else the
    /// body's last output — so the union of both (kind taken from the body output, which is what
    /// the kernel returns after at least one iteration).
    /// </summary>
    private static IrType? FinalCarried(InferenceContext ctx, IrType? initial, IrType? produced, int which)
    {
        if (initial is null || produced is null) return produced is null ? null : FreshDims(ctx, produced);
        var u = Union(ctx, Unwrap(initial), Unwrap(produced), $"loop-carried value {which}");
        return produced is OptionalType && u is not null ? new OptionalType(u) : u;
    }
}
