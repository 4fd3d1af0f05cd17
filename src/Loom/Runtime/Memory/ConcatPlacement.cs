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
        var reads = new Dictionary<string, int>();
        foreach (var step in steps)
        {
            for (int o = 0; o < step.Node.Outputs.Length; o++)
                if (step.Node.Outputs[o].Length > 0 && !step.IsConstant) producer[step.Node.Outputs[o]] = (step.Index, o);
            foreach (var i in step.Node.Inputs) if (i.Length > 0) reads[i] = reads.GetValueOrDefault(i) + 1;
            foreach (var captured in TopologicalSort.UsedNames(step.Node).Except(step.Node.Inputs)) reads[captured] = reads.GetValueOrDefault(captured) + 1;
        }
        var outputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        foreach (var step in steps)
        {
            var n = step.Node;
            if (n is not { OpType: "Concat", Domain: "" } || n.Inputs.Length < 2 || outputs.Contains(n.Outputs[0])) continue;
            if (typeOf(n.Outputs[0]) is not TensorType { ElementType: var type, Shape: { } shape } || type is DataType.String or DataType.Undefined
                || shape.ToKnown() is not { } dims || dims.Length == 0) continue;
            long axis = n.GetInt("axis", 1);
            if (axis < 0) axis += dims.Length;
            if (axis < 0 || axis >= dims.Length || dims.Take((int)axis).Any(d => d != 1)) continue;
            if (n.Inputs.Distinct().Count() != n.Inputs.Length) continue; // the same value twice cannot sit in two slices
            var slices = new List<((int, int) Member, long Offset, long Length)>();
            long offset = 0;
            foreach (var input in n.Inputs)
            {
                if (typeOf(input) is not TensorType { Shape: { } s } || s.ToKnown() is not { } d) { slices = null; break; }
                long length = ShapeMath.Size(d);
                // Only a value the Concat alone reads, made by a step of this graph, can be written in place.
                // (Not another Concat's output: that buffer is placed by its own plan.)
                if (producer.TryGetValue(input, out var member) && reads.GetValueOrDefault(input) == 1 && !outputs.Contains(input)
                    && steps[member.Step].Node.OpType != "Concat")
                    slices.Add((member, offset, length));
                offset += length;
            }
            if (slices is null || slices.Count == 0 || offset != ShapeMath.Size(dims)) continue;
            placement._concats[step.Index] = (type, offset);
            foreach (var (member, off, length) in slices) placement._members[member] = (step.Index, off, length);
        }
        return placement;
    }
}
