using Loom.IR;
using Loom.Kernels.Common;

namespace Loom.Passes;

/// <summary>
/// Graph pass (<c>Model → Model</c>): a chain of float32 element-wise nodes — unary Relu, LeakyRelu,
/// Sigmoid, Tanh, Exp, Log, Erf, Neg, Abs, Sqrt, Reciprocal, Clip (constant bounds), HardSigmoid,
/// HardSwish, and binary Add, Sub, Mul, Div, Max, Min whose other operand is a scalar constant or a tensor
/// of exactly the chain value's inferred shape — becomes one <c>com.loom.ElementwiseChain</c> node whose
/// kernel (<see cref="Kernels.Fast.ElementwiseChainKernel"/>) applies every op to a block of elements while
/// it is in L1: one read of the input and one write of the output instead of one round trip through memory
/// per op, and one node for the scheduler instead of several. Swish (<c>x·sigmoid(x)</c>) and spelled-out
/// HardSwish chains are such chains.
///
/// Safe because: each op is the SIMD op its unfused fast kernel runs, so values are those of the unfused
/// graph bit for bit; a value is taken into a chain only when its one reader is the next node of the chain
/// and it is not a graph output (so nothing else needs it); the chain value never broadcasts (its shape is
/// the output's), so every op maps element i to element i; and the fused node takes the place of the
/// chain's last node and writes that node's output, with every other operand produced before it.
///
/// It runs last at level 2 and only with <see cref="PassOptions.LoomOperators"/> (the node is Loom's own,
/// so <c>loom optimize</c> output stays portable ONNX by default): after constant folding (scalar operands
/// are constants by then) and after <see cref="FuseConvActivation"/>, which takes a Conv's activation
/// into the Conv's own epilogue — better still than a separate chain.
/// </summary>
public static class FuseElementwiseChains
{
    public const string OpType = "ElementwiseChain";

    public static Model Run(Model model) => LoomOperatorRewrite.Run(model, m => Fuse(m.Graph, m.Opsets[""] ?? 0));

    /// <summary>One node of a chain: which input carries the chain value, and the op it applies.</summary>
    private sealed record Link(int Node, int ChainInput, string Op, string? Operand, bool Swap, float A, float B);

    private static Graph Fuse(Graph g, int opset)
    {
        g = g.WithNodes(g.Nodes.Select(n => n.WithSubgraphs(s => Fuse(s, opset))));
        var index = new GraphIndex(g);
        var chainEndingAt = new Dictionary<int, List<Link>>();
        for (int i = 0; i < g.Nodes.Length; i++)
        {
            var n = g.Nodes[i];
            if (n.Domain != "" || n.Outputs.Length != 1 || n.Subgraphs.Any()) continue;
            List<Link>? chain = null;
            Link? link = null;
            // Extend the chain that ends at the producer of one of our inputs, when we are its value's only reader.
            for (int c = 0; c < Math.Min(2, n.Inputs.Length) && chain is null; c++)
            {
                int p = index.ProducerIndex(n.Inputs[c]);
                if (p >= 0 && chainEndingAt.TryGetValue(p, out var before) && index.HasSingleConsumer(n.Inputs[c]) && Describe(g, index, opset, i, c) is { } l)
                {
                    chain = before;
                    link = l;
                    chainEndingAt.Remove(p);
                }
            }
            for (int c = 0; c < Math.Min(2, n.Inputs.Length) && chain is null; c++)
                if (Describe(g, index, opset, i, c) is { } l)
                {
                    chain = [];
                    link = l;
                }
            if (chain is null) continue;
            chain.Add(link!);
            chainEndingAt[i] = chain;
        }

        var chains = chainEndingAt.Values.Where(c => c.Count >= 2).ToList();
        if (chains.Count == 0) return g;
        Node?[] nodes = [.. g.Nodes];
        foreach (var chain in chains)
        {
            var last = g.Nodes[chain[^1].Node];
            nodes[chain[^1].Node] = Fused(g, chain, last);
            foreach (var l in chain.SkipLast(1)) nodes[l.Node] = null;
        }
        return new Graph(g.Name, g.Inputs, g.Outputs, nodes.OfType<Node>(), g.Initializers, g.ValueTypes);
    }

    /// <summary>The com.loom node computing the whole chain: X, then each tensor operand once.</summary>
    private static Node Fused(Graph g, List<Link> chain, Node last)
    {
        var inputs = new List<string> { g.Nodes[chain[0].Node].Inputs[chain[0].ChainInput] };
        var operands = new List<long>();
        foreach (var l in chain)
        {
            if (l.Operand is null) { operands.Add(-1); continue; }
            int k = inputs.IndexOf(l.Operand);
            if (k < 0) { k = inputs.Count; inputs.Add(l.Operand); }
            operands.Add(k);
        }
        IR.Attribute[] attributes =
        [
            IR.Attribute.Strings("ops", chain.Select(l => l.Op)),
            IR.Attribute.Ints("operands", operands),
            IR.Attribute.Ints("swap", chain.Select(l => l.Swap ? 1L : 0L)),
            IR.Attribute.Floats("alpha", chain.Select(l => l.A)),
            IR.Attribute.Floats("beta", chain.Select(l => l.B)),
        ];
        return new Node(OpType, inputs, last.Outputs, attributes, last.Name, FuseConvActivation.Domain);
    }

    /// <summary>Node <paramref name="i"/> as a chain link whose value comes in at input <paramref name="c"/>; null if it cannot be one.</summary>
    private static Link? Describe(Graph g, GraphIndex index, int opset, int i, int c)
    {
        var n = g.Nodes[i];
        var value = n.Inputs[c];
        if (value.Length == 0 || g.TypeOf(n.Outputs[0]) is not TensorType { ElementType: DataType.Float, Shape: { } shape }
            || g.TypeOf(value) is not TensorType { ElementType: DataType.Float, Shape: { } vs } || !vs.Equals(shape))
            return null;
        if (ElementwiseChainProgram.Unary.Contains(n.OpType))
        {
            if (c != 0) return null;
            return n.OpType switch
            {
                "LeakyRelu" => new Link(i, c, n.OpType, null, false, n.GetFloat("alpha", 0.01f), 0),
                "HardSigmoid" => new Link(i, c, n.OpType, null, false, n.GetFloat("alpha", 0.2f), n.GetFloat("beta", 0.5f)),
                "Clip" => ClipBounds(n, index, opset) is var (lo, hi) ? new Link(i, c, n.OpType, null, false, lo, hi) : null,
                _ => n.Inputs.Length == 1 ? new Link(i, c, n.OpType, null, false, 0, 0) : null,
            };
        }
        // Binary ops with NumPy broadcasting (opset 7; 8 for Max and Min, variadic before), two inputs exactly.
        if (!ElementwiseChainProgram.Binary.Contains(n.OpType) || n.Inputs.Length != 2 || opset < (n.OpType is "Max" or "Min" ? 8 : 7))
            return null;
        var other = n.Inputs[1 - c];
        if (other == value || other.Length == 0) return null; // x∘x: the value would be both chain and operand
        if (index.Constant(other) is { DataType: DataType.Float, Length: 1 } scalar)
            return new Link(i, c, n.OpType, null, c == 1, scalar.AsReadOnlySpan<float>()[0], 0);
        return g.TypeOf(other) is TensorType { ElementType: DataType.Float, Shape: { } os } && os.Equals(shape)
            ? new Link(i, c, n.OpType, other, c == 1, 0, 0) : null;
    }

    /// <summary>Clip's bounds: attributes before opset 11 (±∞ when absent, as the fast kernel does), scalar constant inputs since.</summary>
    private static (float Lo, float Hi)? ClipBounds(Node n, GraphIndex index, int opset)
    {
        if (opset < 11)
            return (n.GetAttribute("min") is null ? float.NegativeInfinity : n.GetFloat("min", 0),
                    n.GetAttribute("max") is null ? float.PositiveInfinity : n.GetFloat("max", 0));
        float? Bound(int k)
        {
            if (k >= n.Inputs.Length || n.Inputs[k].Length == 0) return k == 1 ? float.NegativeInfinity : float.PositiveInfinity;
            return index.Constant(n.Inputs[k]) is { DataType: DataType.Float, Length: 1 } t ? t.AsReadOnlySpan<float>()[0] : null;
        }
        return Bound(1) is { } lo && Bound(2) is { } hi ? (lo, hi) : null;
    }
}
