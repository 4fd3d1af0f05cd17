using Loom.IR;

namespace Loom.Runtime.Memory;

/// <summary>
/// Concats whose inputs can be computed in place: each input, produced by a step of the graph and read by
/// nothing but the Concat, is allocated as its slice of the Concat's output buffer, so the Concat copies
/// nothing (SqueezeNet's fire modules, Inception's branches). Only when the slices are contiguous — every
/// dim before the axis is 1 — and all shapes are known at compile time. The plan is a hint: a producer that
/// does not allocate its output through the frame (a view of its input) leaves its slice to the Concat's copy.
/// </summary>
internal sealed class ConcatPlacement
{
    /// <summary>(step, output) → the Concat step and the slice's first element.</summary>
    private readonly Dictionary<(int Step, int Output), (int Concat, long Offset, long Length)> _members = new();

    /// <summary>Concat step → its output's element type and element count.</summary>
    private readonly Dictionary<int, (DataType Type, long Length)> _concats = new();

    public static ConcatPlacement None { get; } = new();

    public bool IsEmpty => _concats.Count == 0;

    public bool TryMember(int step, int output, out (int Concat, long Offset, long Length) slice) => _members.TryGetValue((step, output), out slice);

    public bool TryConcat(int step, out (DataType Type, long Length) whole) => _concats.TryGetValue(step, out whole);

    internal static ConcatPlacement Plan(Graph graph, IReadOnlyList<CompiledGraph.Step> steps, Func<string, IrType?> typeOf)
    {
        var placement = new ConcatPlacement();
        var producer = new Dictionary<string, (int Step, int Output)>();
        var concatReads = new Dictionary<string, int>();
        var captured = new HashSet<string>();
        foreach (var step in steps)
        {
            for (int o = 0; o < step.Node.Outputs.Length; o++)
                if (step.Node.Outputs[o].Length > 0 && !step.IsConstant) producer[step.Node.Outputs[o]] = (step.Index, o);
            if (step.Node is { OpType: "Concat", Domain: "" })
                foreach (var i in step.Node.Inputs.Distinct()) concatReads[i] = concatReads.GetValueOrDefault(i) + 1;
            captured.UnionWith(TopologicalSort.UsedNames(step.Node).Except(step.Node.Inputs));
        }
        var outputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        bool IsConcat(string value) => producer.TryGetValue(value, out var m) && steps[m.Step].Node is { OpType: "Concat", Domain: "" };

        // Which inputs each Concat can hold: values of this graph that no other Concat reads (so they sit in one buffer)
        // and no subgraph captures; another Concat's output only as the first input, its prefix (a chain, below).
        var planned = new Dictionary<int, (DataType Type, long Length, List<(int Input, long Offset, long Length)> Members)>();
        foreach (var step in steps)
        {
            var n = step.Node;
            var slices = Slices(n, typeOf, outputs, input => producer.ContainsKey(input) && concatReads.GetValueOrDefault(input) == 1
                && !captured.Contains(input) && (!IsConcat(input) || input == n.Inputs[0]));
            if (slices is not null) planned[step.Index] = slices.Value;
        }

        // A chain (DenseNet's blocks: c1 = Concat(x, y1), c2 = Concat(c1, y2), ...): every link is a prefix of the next, so the
        // whole chain lives in the last Concat's buffer and no link copies what it inherits.
        var next = new Dictionary<int, int>();
        foreach (var (c, plan) in planned)
            if (plan.Members.Count > 0 && plan.Members[0] is (0, 0, _) && IsConcat(steps[c].Node.Inputs[0]))
            {
                int prev = producer[steps[c].Node.Inputs[0]].Step;
                if (planned.TryGetValue(prev, out var p) && p.Type == plan.Type) next[prev] = c;
            }
        foreach (var (c, plan) in planned)
        {
            int root = c;
            while (next.TryGetValue(root, out var after)) root = after;
            placement._concats[c] = (plan.Type, plan.Length);
            foreach (var (input, off, length) in plan.Members)
            {
                var member = producer[steps[c].Node.Inputs[input]];
                // The previous link of a chain is placed as its own output (below), not as this link's member.
                if (!(input == 0 && next.TryGetValue(member.Step, out var to) && to == c)) placement._members[member] = (root, off, length);
            }
            if (root != c) placement._members[(c, 0)] = (root, 0, plan.Length);
        }
        return placement;
    }

    /// <summary>
    /// The inputs of Concat <paramref name="n"/> that can sit in its output as slices (by input index), the output's element
    /// type and length; null when none can. <paramref name="placeable"/> says whether an input is a value the Concat alone
    /// reads, made by a step of this graph.
    /// </summary>
    internal static (DataType Type, long Length, List<(int Input, long Offset, long Length)> Members)? Slices(Node n, Func<string, IrType?> typeOf,
        IReadOnlySet<string> graphOutputs, Func<string, bool> placeable)
    {
        if (n is not { OpType: "Concat", Domain: "" } || n.Inputs.Length < 2 || graphOutputs.Contains(n.Outputs[0])) return null;
        if (typeOf(n.Outputs[0]) is not TensorType { ElementType: var type, Shape: { } shape } || type is DataType.String or DataType.Undefined
            || shape.ToKnown() is not { } dims || dims.Length == 0) return null;
        long axis = n.GetInt("axis", 1);
        if (axis < 0) axis += dims.Length;
        if (axis < 0 || axis >= dims.Length || dims.Take((int)axis).Any(d => d != 1)) return null;
        if (n.Inputs.Distinct().Count() != n.Inputs.Length) return null; // the same value twice cannot sit in two slices
        var members = new List<(int, long, long)>();
        long offset = 0;
        for (int i = 0; i < n.Inputs.Length; i++)
        {
            var input = n.Inputs[i];
            if (typeOf(input) is not TensorType { Shape: { } s } || s.ToKnown() is not { } d) return null;
            long length = ShapeMath.Size(d);
            if (!graphOutputs.Contains(input) && placeable(input)) members.Add((i, offset, length));
            offset += length;
        }
        return members.Count == 0 || offset != ShapeMath.Size(dims) ? null : (type, offset, members);
    }
}
