using Google.Protobuf;
using Loom.Dynamic;
using Loom.Dynamic.Batching;
using Loom.Dynamic.Cells;
using Loom.Dynamic.Data;
using Loom.Import.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Loom.Tests.BatchingTests;

/// <summary>
/// Cells given as ONNX models (a leaf cell and an internal cell, as a user would export them): Loom batches them
/// across the nodes of many trees; ONNX Runtime runs the same two models once per node as the oracle.
/// </summary>
public class OnnxCellTests
{
    private const int H = 8;

    private static TypeProto Vec(int n)
    {
        var t = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto() };
        t.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 1 });
        t.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = n });
        return new TypeProto { TensorType = t };
    }

    private static TensorProto Const(string name, Random rng, float scale, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = 1 };
        t.Dims.AddRange(dims);
        long n = dims.Aggregate(1L, (a, b) => a * b);
        for (long i = 0; i < n; i++) t.FloatData.Add(scale < 0 ? 1f : (float)(rng.NextDouble() * 2 - 1) * scale);
        return t;
    }

    private static NodeProto N(string op, string[] ins, string @out, params AttributeProto[] attrs)
    {
        var n = new NodeProto { OpType = op, Name = @out, Output = { @out } };
        n.Input.AddRange(ins);
        n.Attribute.AddRange(attrs);
        return n;
    }

    private static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    private static byte[] Model(GraphProto g)
    {
        var m = new ModelProto { IrVersion = 8, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return m.ToByteArray();
    }

    /// <summary>x → (h, c): i = σ(Gemm(x, Wa, ba, transB)), u = tanh(x·Wu + bu), c = i⊙u, h = tanh(c). Values are named with prefix <paramref name="p"/>.</summary>
    private static GraphProto LeafBody(Random rng, string p)
    {
        var g = new GraphProto { Name = p + "leaf" };
        g.Initializer.Add(Const(p + "Wa", rng, 0.5f, H, H));
        g.Initializer.Add(Const(p + "ba", rng, 0.5f, H));
        g.Initializer.Add(Const(p + "Wu", rng, 0.5f, H, H));
        g.Initializer.Add(Const(p + "bu", rng, 0.5f, 1, H));
        g.Node.Add(N("Gemm", ["x", p + "Wa", p + "ba"], p + "a", Int("transB", 1)));
        g.Node.Add(N("Sigmoid", [p + "a"], p + "i"));
        g.Node.Add(N("MatMul", ["x", p + "Wu"], p + "mu"));
        g.Node.Add(N("Add", [p + "mu", p + "bu"], p + "pu"));
        g.Node.Add(N("Tanh", [p + "pu"], p + "u"));
        g.Node.Add(N("Mul", [p + "i", p + "u"], p + "c"));
        g.Node.Add(N("Tanh", [p + "c"], p + "h"));
        g.Output.Add(new ValueInfoProto { Name = p + "h", Type = Vec(H) });
        g.Output.Add(new ValueInfoProto { Name = p + "c", Type = Vec(H) });
        return g;
    }

    /// <summary>(h_l, c_l, h_r, c_r) → (h, c) over e = [h_l; h_r]: f = σ(e·Wf + bf), g = tanh(Gemm(e, Wg, bg)),
    /// c = f⊙c_l + (1 − f)⊙g + c_r, h = σ(e·Wo)⊙tanh(c).</summary>
    private static GraphProto NodeBody(Random rng, string p)
    {
        var g = new GraphProto { Name = p + "node" };
        g.Initializer.Add(Const(p + "Wf", rng, 0.4f, 2 * H, H));
        g.Initializer.Add(Const(p + "bf", rng, 0.4f, H));
        g.Initializer.Add(Const(p + "Wg", rng, 0.4f, 2 * H, H));
        g.Initializer.Add(Const(p + "bg", rng, 0.4f, H));
        g.Initializer.Add(Const(p + "Wo", rng, 0.4f, 2 * H, H));
        g.Initializer.Add(Const(p + "one", rng, -1, 1, H));
        g.Node.Add(N("Concat", ["hl", "hr"], p + "e", Int("axis", 1)));
        g.Node.Add(N("MatMul", [p + "e", p + "Wf"], p + "mf"));
        g.Node.Add(N("Add", [p + "bf", p + "mf"], p + "pf"));
        g.Node.Add(N("Sigmoid", [p + "pf"], p + "f"));
        g.Node.Add(N("Gemm", [p + "e", p + "Wg", p + "bg"], p + "pg"));
        g.Node.Add(N("Tanh", [p + "pg"], p + "gg"));
        g.Node.Add(N("Sub", [p + "one", p + "f"], p + "nf"));
        g.Node.Add(N("Mul", [p + "f", "cl"], p + "a1"));
        g.Node.Add(N("Mul", [p + "nf", p + "gg"], p + "a2"));
        g.Node.Add(N("Sum", [p + "a1", p + "a2", "cr"], p + "c"));
        g.Node.Add(N("MatMul", [p + "e", p + "Wo"], p + "mo"));
        g.Node.Add(N("Sigmoid", [p + "mo"], p + "o"));
        g.Node.Add(N("Tanh", [p + "c"], p + "tc"));
        g.Node.Add(N("Mul", [p + "o", p + "tc"], p + "h"));
        g.Output.Add(new ValueInfoProto { Name = p + "h", Type = Vec(H) });
        g.Output.Add(new ValueInfoProto { Name = p + "c", Type = Vec(H) });
        return g;
    }

    /// <summary>A body as a model of its own: its outer names become graph inputs.</summary>
    private static byte[] Standalone(GraphProto body, params string[] inputs)
    {
        foreach (var name in inputs) body.Input.Add(new ValueInfoProto { Name = name, Type = Vec(H) });
        return Model(body);
    }

    private static readonly string[] AllInputs = ["x", "hl", "cl", "hr", "cr"];

    /// <summary>One model for both kinds of node: If(leaf) then the leaf body else the internal body.</summary>
    private static byte[] IfModel(Random rng)
    {
        var g = new GraphProto { Name = "treecell" };
        var b = new TypeProto.Types.Tensor { ElemType = 9, Shape = new TensorShapeProto() };
        g.Input.Add(new ValueInfoProto { Name = "leaf", Type = new TypeProto { TensorType = b } });
        foreach (var name in AllInputs) g.Input.Add(new ValueInfoProto { Name = name, Type = Vec(H) });
        var n = N("If", ["leaf"], "h");
        n.Output.Add("c");
        n.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = LeafBody(rng, "l_") });
        n.Attribute.Add(new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = NodeBody(rng, "n_") });
        g.Node.Add(n);
        g.Output.Add(new ValueInfoProto { Name = "h", Type = Vec(H) });
        g.Output.Add(new ValueInfoProto { Name = "c", Type = Vec(H) });
        return Model(g);
    }

    /// <summary>ONNX Runtime, one run per tree node in post-order (<paramref name="run"/>: leaf?, inputs → h, c): every node's h.</summary>
    private static float[][] OrtTree(Func<bool, float[][], (float[], float[])> run, SstTree t, float[] table)
    {
        var h = new float[t.Count][];
        var c = new float[t.Count][];
        for (int n = 0; n < t.Count; n++)
            (h[n], c[n]) = t.IsLeaf(n) ? run(true, [table.AsSpan(t.WordIds[n] * H, H).ToArray()])
                : run(false, [h[t.Left[n]], c[t.Left[n]], h[t.Right[n]], c[t.Right[n]]]);
        return h;
    }

    private static (float[], float[]) Ort(InferenceSession s, string[] names, OrtValue[] values)
    {
        using var ro = new RunOptions();
        try
        {
            using var outs = s.Run(ro, names, values, ["h", "c"]);
            return (outs[0].GetTensorDataAsSpan<float>().ToArray(), outs[1].GetTensorDataAsSpan<float>().ToArray());
        }
        finally { foreach (var v in values) v.Dispose(); }
    }

    private static OrtValue V(float[] x) => OrtValue.CreateTensorValueFromMemory(x, [1, H]);

    /// <summary>Loom: every tree built from the two cells, batched by <paramref name="policy"/>; ORT's per-node values compared.</summary>
    private static void Check(Cell leaf, Cell node, BatchingPolicy policy, Func<bool, float[][], (float[], float[])> ort)
    {
        var (trees, vocab) = SmallTrees.Load();
        var table = new ParameterCollection(5).AddLookup("E", vocab.Count, H);
        Assert.Equal([H], leaf.ArgDims);
        Assert.Equal([H, H, H, H], node.ArgDims);
        Assert.Equal([H, H], node.OutputDims);
        var g = new DynamicGraph();
        var states = new List<Expr[]>();
        foreach (var t in trees)
        {
            var hc = new Expr[t.Count][];
            for (int n = 0; n < t.Count; n++)
                hc[n] = t.IsLeaf(n) ? g.Apply(leaf, g.Lookup(table, t.WordIds[n]))
                    : g.Apply(node, hc[t.Left[n]][0], hc[t.Left[n]][1], hc[t.Right[n]][0], hc[t.Right[n]][1]);
            states.Add(hc.Select(x => x[0]).ToArray());
        }
        g.Forward(policy, lowerBound: true, fsm: policy == BatchingPolicy.Fsm ? FsmPolicy.Learn(g) : null);
        if (policy != BatchingPolicy.None) Assert.True(g.LastStats!.KernelCalls < trees.Sum(t => t.Count));
        for (int b = 0; b < trees.Count; b++)
        {
            var expected = OrtTree(ort, trees[b], table.Value);
            for (int n = 0; n < trees[b].Count; n++) SmallTrees.Close(expected[n], g.Value(states[b][n]), rtol: 1e-5, atol: 1e-6);
        }
    }

    [Theory]
    [InlineData(BatchingPolicy.None)]
    [InlineData(BatchingPolicy.Agenda)]
    [InlineData(BatchingPolicy.Fsm)]
    public void OnnxCellsBatchedEqualOnnxRuntimePerNode(BatchingPolicy policy)
    {
        var rng = new Random(11);
        byte[] leafBytes = Standalone(LeafBody(rng, ""), "x"), nodeBytes = Standalone(NodeBody(rng, ""), "hl", "cl", "hr", "cr");
        using var leafSession = new InferenceSession(leafBytes);
        using var nodeSession = new InferenceSession(nodeBytes);
        Check(OnnxCell.Load(leafBytes, "leaf.onnx"), OnnxCell.Load(nodeBytes, "node.onnx"), policy, (isLeaf, ins) => isLeaf
            ? Ort(leafSession, ["x"], [V(ins[0])])
            : Ort(nodeSession, ["hl", "cl", "hr", "cr"], ins.Select(V).ToArray()));
    }

    [Theory]
    [InlineData(BatchingPolicy.Agenda)]
    [InlineData(BatchingPolicy.Fsm)]
    public void OneOnnxModelWithIfGivesBothCells(BatchingPolicy policy)
    {
        byte[] bytes = IfModel(new Random(13));
        var (leaf, node) = OnnxCell.LoadIf(bytes, "treecell.onnx");
        using var session = new InferenceSession(bytes);
        var zero = new float[H];
        Check(leaf, node, policy, (isLeaf, ins) =>
        {
            float[][] all = isLeaf ? [ins[0], zero, zero, zero, zero] : [zero, .. ins];
            var values = new[] { OrtValue.CreateTensorValueFromMemory(new[] { isLeaf }, []) }.Concat(all.Select(V)).ToArray();
            return Ort(session, ["leaf", .. AllInputs], values);
        });
    }

    [Fact]
    public void UnsupportedOnnxCellsNameTheNode()
    {
        var g = new GraphProto { Name = "bad" };
        g.Input.Add(new ValueInfoProto { Name = "x", Type = Vec(H) });
        g.Node.Add(N("Relu", ["x"], "y"));
        g.Output.Add(new ValueInfoProto { Name = "y", Type = Vec(H) });
        var e = Assert.Throws<UnsupportedException>(() => OnnxCell.Load(Model(g), "bad.onnx"));
        Assert.Contains("one If node", Assert.Throws<UnsupportedException>(() => OnnxCell.LoadIf(Model(g), "bad.onnx")).Message);
        Assert.Contains("bad.onnx", e.Message);
        Assert.Contains("Relu", e.Message);
        var g2 = new GraphProto { Name = "bad2" };
        var t = Vec(H);
        t.TensorType.Shape.Dim[0].DimValue = 3;
        g2.Input.Add(new ValueInfoProto { Name = "x", Type = t });
        g2.Node.Add(N("Tanh", ["x"], "y"));
        g2.Output.Add(new ValueInfoProto { Name = "y", Type = Vec(H) });
        e = Assert.Throws<UnsupportedException>(() => OnnxCell.Load(Model(g2), "bad2.onnx"));
        Assert.Contains("'x'", e.Message);
    }
}
