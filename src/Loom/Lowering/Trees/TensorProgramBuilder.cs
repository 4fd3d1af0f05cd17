using Loom.IR;
using Loom.Passes;
using Attr = Loom.IR.Attribute;

namespace Loom.Lowering.Trees;

/// <summary>
/// Collects the default-domain nodes and initializers that replace one tree node. Every value gets a
/// fresh name derived from the tree node's, and each node is named after its output, so an error in
/// the lowered program still points at the tree it came from. <paramref name="opset"/> (≥ 13) decides
/// how reductions take their axes (an input from 13 for ReduceSum, from 18 for ReduceMin/ReduceMax).
/// </summary>
internal sealed class TensorProgramBuilder(UniqueNames names, string prefix, int opset)
{
    public List<Node> Nodes { get; } = [];
    public Dictionary<string, Tensor> Initializers { get; } = [];

    /// <summary>Drops constants that no node ended up reading (a mask made before the rules showed it was not needed).</summary>
    public void DropUnused()
    {
        var read = Nodes.SelectMany(n => n.Inputs).ToHashSet();
        foreach (var name in Initializers.Keys.Where(k => !read.Contains(k)).ToList()) Initializers.Remove(name);
    }

    public string Const(string hint, Tensor value)
    {
        var name = names.Derive(prefix, hint);
        Initializers[name] = value;
        return name;
    }

    public string Floats(string hint, float[] data, params int[] shape) => Const(hint, Tensor.FromArray(data, shape));
    public string Longs(string hint, long[] data, params int[] shape) => Const(hint, Tensor.FromArray(data, shape));
    public string Bools(string hint, bool[] data, params int[] shape) => Const(hint, Tensor.FromArray(data, shape));
    public string Scalar(string hint, float value) => Const(hint, Tensor.Scalar(value));

    /// <summary>Adds a node with one output; <paramref name="output"/> names it (a tree node's own output), else a fresh name from <paramref name="hint"/>.</summary>
    public string Op(string op, string hint, string[] inputs, Attr[]? attributes = null, string? output = null)
    {
        output ??= names.Derive(prefix, hint);
        Nodes.Add(new Node(op, inputs, [output], attributes, name: output));
        return output;
    }

    public string Op(string op, string hint, params string[] inputs) => Op(op, hint, inputs, null);

    /// <summary>
    /// Makes <paramref name="value"/> available as <paramref name="output"/> (a tree node's output): the node
    /// that computes it is renamed when nothing else reads it, otherwise an Identity copies it.
    /// </summary>
    public void Name(string value, string output)
    {
        int producer = Nodes.FindIndex(n => n.Outputs.Contains(value));
        if (producer >= 0 && !Nodes.Any(n => n.Inputs.Contains(value)))
        {
            var n = Nodes[producer];
            Nodes[producer] = new Node(n.OpType, n.Inputs, n.Outputs.Select(o => o == value ? output : o), n.Attributes, output, n.Domain);
        }
        else Op("Identity", "output", [value], output: output);
    }

    public string Cast(string x, DataType to, string hint) => Op("Cast", hint, [x], [Attr.Int("to", (int)to)]);

    /// <summary>A reduction over one axis of <paramref name="x"/> (ReduceSum, ReduceMin, ReduceMax).</summary>
    public string Reduce(string op, string x, int axis, bool keepDims, string hint, string? output = null)
    {
        var keep = Attr.Int("keepdims", keepDims ? 1 : 0);
        bool axesInput = op == "ReduceSum" ? opset >= 13 : opset >= 18;
        return axesInput
            ? Op(op, hint, [x, Longs(hint + "_axes", [axis], 1)], [keep], output)
            : Op(op, hint, [x], [Attr.Ints("axes", [axis]), keep], output);
    }

    /// <summary>Columns [start, end) of a matrix.</summary>
    public string Columns(string x, int start, int end, string hint) =>
        Op("Slice", hint, x, Longs(hint + "_starts", [start], 1), Longs(hint + "_ends", [end], 1), Longs(hint + "_axes", [1], 1));
}
