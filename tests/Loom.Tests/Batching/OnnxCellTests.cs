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

    /// <summary>x → (h, c): i = σ(Gemm(x, Wa, ba, transB)), u = tanh(x·Wu + bu), c = i⊙u, h = tanh(c).</summary>
    private static byte[] LeafModel(Random rng)
    {
        var g = new GraphProto { Name = "leaf" };
        g.Input.Add(new ValueInfoProto { Name = "x", Type = Vec(H) });
        g.Initializer.Add(Const("Wa", rng, 0.5f, H, H));
        g.Initializer.Add(Const("ba", rng, 0.5f, H));
        g.Initializer.Add(Const("Wu", rng, 0.5f, H, H));
        g.Initializer.Add(Const("bu", rng, 0.5f, 1, H));
        g.Node.Add(N("Gemm", ["x", "Wa", "ba"], "a", Int("transB", 1)));
        g.Node.Add(N("Sigmoid", ["a"], "i"));
        g.Node.Add(N("MatMul", ["x", "Wu"], "mu"));
        g.Node.Add(N("Add", ["mu", "bu"], "pu"));
        g.Node.Add(N("Tanh", ["pu"], "u"));
        g.Node.Add(N("Mul", ["i", "u"], "c"));
        g.Node.Add(N("Tanh", ["c"], "h"));
        g.Output.Add(new ValueInfoProto { Name = "h", Type = Vec(H) });
        g.Output.Add(new ValueInfoProto { Name = "c", Type = Vec(H) });
        return Model(g);
    }

    /// <summary>(h_l, c_l, h_r, c_r) → (h, c) over e = [h_l; h_r]: f = σ(e·Wf + bf), g = tanh(Gemm(e, Wg, bg)),
    /// c = f⊙c_l + (1 − f)⊙g + c_r, h = σ(e·Wo)⊙tanh(c).</summary>
    private static byte[] NodeModel(Random rng)
    {
        var g = new GraphProto { Name = "node" };
        foreach (var name in new[] { "hl", "cl", "hr", "cr" }) g.Input.Add(new ValueInfoProto { Name = name, Type = Vec(H) });
        g.Initializer.Add(Const("Wf", rng, 0.4f, 2 * H, H));
        g.Initializer.Add(Const("bf", rng, 0.4f, H));
        g.Initializer.Add(Const("Wg", rng, 0.4f, 2 * H, H));
        g.Initializer.Add(Const("bg", rng, 0.4f, H));
        g.Initializer.Add(Const("Wo", rng, 0.4f, 2 * H, H));
        g.Initializer.Add(Const("one", rng, -1, 1, H));
        g.Node.Add(N("Concat", ["hl", "hr"], "e", Int("axis", 1)));
        g.Node.Add(N("MatMul", ["e", "Wf"], "mf"));
        g.Node.Add(N("Add", ["bf", "mf"], "pf"));
        g.Node.Add(N("Sigmoid", ["pf"], "f"));
        g.Node.Add(N("Gemm", ["e", "Wg", "bg"], "pg"));
        g.Node.Add(N("Tanh", ["pg"], "gg"));
        g.Node.Add(N("Sub", ["one", "f"], "nf"));
        g.Node.Add(N("Mul", ["f", "cl"], "a1"));
        g.Node.Add(N("Mul", ["nf", "gg"], "a2"));
        g.Node.Add(N("Sum", ["a1", "a2", "cr"], "c"));
        g.Node.Add(N("MatMul", ["e", "Wo"], "mo"));
        g.Node.Add(N("Sigmoid", ["mo"], "o"));
        g.Node.Add(N("Tanh", ["c"], "tc"));
        g.Node.Add(N("Mul", ["o", "tc"], "h"));
        g.Output.Add(new ValueInfoProto { Name = "h", Type = Vec(H) });
        g.Output.Add(new ValueInfoProto { Name = "c", Type = Vec(H) });
        return Model(g);
    }

    /// <summary>ONNX Runtime, one run per tree node in post-order: every node's h.</summary>
    private static float[][] OrtTree(InferenceSession leaf, InferenceSession node, SstTree t, float[] table)
    {
        var h = new float[t.Count][];
        var c = new float[t.Count][];
        using var ro = new RunOptions();
        for (int n = 0; n < t.Count; n++)
        {
            string[] names;
            float[][] ins;
            InferenceSession s;
            if (t.IsLeaf(n)) { s = leaf; names = ["x"]; ins = [table.AsSpan(t.WordIds[n] * H, H).ToArray()]; }
            else { s = node; names = ["hl", "cl", "hr", "cr"]; ins = [h[t.Left[n]], c[t.Left[n]], h[t.Right[n]], c[t.Right[n]]]; }
            var values = ins.Select(v => OrtValue.CreateTensorValueFromMemory(v, [1, H])).ToArray();
            try
            {
                using var outs = s.Run(ro, names, values, ["h", "c"]);
                h[n] = outs[0].GetTensorDataAsSpan<float>().ToArray();
                c[n] = outs[1].GetTensorDataAsSpan<float>().ToArray();
            }
            finally { foreach (var v in values) v.Dispose(); }
        }
        return h;
    }

    [Theory]
    [InlineData(BatchingPolicy.None)]
    [InlineData(BatchingPolicy.Agenda)]
    [InlineData(BatchingPolicy.Fsm)]
    public void OnnxCellsBatchedEqualOnnxRuntimePerNode(BatchingPolicy policy)
    {
        var rng = new Random(11);
        byte[] leafBytes = LeafModel(rng), nodeBytes = NodeModel(rng);
        var (trees, vocab) = SmallTrees.Load();
        var table = new ParameterCollection(5).AddLookup("E", vocab.Count, H);
        var leaf = OnnxCell.Load(leafBytes, "leaf.onnx");
        var node = OnnxCell.Load(nodeBytes, "node.onnx");
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

        using var leafSession = new InferenceSession(leafBytes);
        using var nodeSession = new InferenceSession(nodeBytes);
        for (int b = 0; b < trees.Count; b++)
        {
            var expected = OrtTree(leafSession, nodeSession, trees[b], table.Value);
            for (int n = 0; n < trees[b].Count; n++) SmallTrees.Close(expected[n], g.Value(states[b][n]), rtol: 1e-5, atol: 1e-6);
        }
    }

    [Fact]
    public void UnsupportedOnnxCellsNameTheNode()
    {
        var g = new GraphProto { Name = "bad" };
        g.Input.Add(new ValueInfoProto { Name = "x", Type = Vec(H) });
        g.Node.Add(N("Relu", ["x"], "y"));
        g.Output.Add(new ValueInfoProto { Name = "y", Type = Vec(H) });
        var e = Assert.Throws<UnsupportedException>(() => OnnxCell.Load(Model(g), "bad.onnx"));
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
