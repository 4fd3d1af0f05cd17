using Loom.IR;
using Loom.Runtime.Memory;

namespace Loom.Tests.Runtime;

/// <summary>
/// Concat inputs computed straight into the Concat's output (<see cref="ConcatPlacement"/>): which inputs are
/// placed, and that runs give hand-computed results in every execution mode, run after run, including when
/// a placed value's neighbour must still be copied.
/// </summary>
public sealed class ConcatPlacementTests
{
    // a = Relu(x), b = Neg(x), c = Concat(a, b, x2) on axis 1 where x2 = Abs(x) is also an output; y = c + 1.
    private static Model Model()
    {
        var x = new TensorType(DataType.Float, Shape.Of(1, 2, 3));
        var nodes = new Node[]
        {
            new("Relu", ["x"], ["a"]), new("Neg", ["x"], ["b"]), new("Abs", ["x"], ["x2"]),
            new("Concat", ["a", "b", "x2"], ["c"], [IR.Attribute.Int("axis", 1)]),
            new("Add", ["c", "one"], ["y"]),
        };
        var g = new Graph("g", [new ValueInfo("x", x)], [new ValueInfo("y", null), new ValueInfo("x2", null)], nodes,
            new Dictionary<string, Tensor> { ["one"] = Tensor.FromArray(new float[] { 1 }, 1) });
        return Inference.ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 }));
    }

    [Fact]
    public void PlacesOnlyInputsTheConcatAloneReads()
    {
        var model = Model();
        var graph = new global::Loom.Runtime.CompiledGraph(model.Graph, model.Opsets, global::Loom.Kernels.KernelRegistry.Default, new LoomSessionOptions(), null);
        var placed = Enumerable.Range(0, 3).Select(step => graph.Concats.TryMember(step, 0, out var s) ? s : default).ToArray();
        Assert.Equal((3, 0L, 6L), placed[0]); // Relu: elements 0..5 of the Concat (step 3)
        Assert.Equal((3, 6L, 6L), placed[1]); // Neg: 6..11
        Assert.Equal(default, placed[2]);     // Abs is a graph output too: copied
        Assert.True(graph.Concats.TryConcat(3, out var whole) && whole.Length == 18);
    }

    [Theory]
    [InlineData(ExecutionMode.Sequential, 1)]
    [InlineData(ExecutionMode.Sequential, 2)]
    [InlineData(ExecutionMode.Parallel, 2)]
    public void RunsGiveTheHandComputedConcatRunAfterRun(ExecutionMode mode, int threads)
    {
        using var session = LoomSession.Create(Model(), new LoomSessionOptions { ExecutionMode = mode, IntraOpThreads = threads });
        for (int run = 0; run < 5; run++)
        {
            float[] x = [run, -1, 2.5f, -3, 0.5f, -run];
            using var r = session.Run(("x", Tensor.FromArray(x, 1, 2, 3)));
            var expected = x.Select(v => Math.Max(v, 0) + 1).Concat(x.Select(v => -v + 1)).Concat(x.Select(v => Math.Abs(v) + 1));
            Assert.Equal(expected, r.Tensor("y").ToArray<float>());
            Assert.Equal(x.Select(Math.Abs), r.Tensor("x2").ToArray<float>());
        }
    }

    // A DenseNet-style chain: x0 = Neg(x) (also read by Abs), c1 = Concat(x0, Abs(x0)), c2 = Concat(c1, Relu(c1)); y = c2 + 1.
    private static Model Chain()
    {
        var x = new TensorType(DataType.Float, Shape.Of(1, 2, 3));
        var nodes = new Node[]
        {
            new("Neg", ["x"], ["x0"]), new("Abs", ["x0"], ["y1"]),
            new("Concat", ["x0", "y1"], ["c1"], [IR.Attribute.Int("axis", 1)]),
            new("Relu", ["c1"], ["y2"]),
            new("Concat", ["c1", "y2"], ["c2"], [IR.Attribute.Int("axis", 1)]),
            new("Add", ["c2", "one"], ["y"]),
        };
        var g = new Graph("g", [new ValueInfo("x", x)], [new ValueInfo("y", null)], nodes,
            new Dictionary<string, Tensor> { ["one"] = Tensor.FromArray(new float[] { 1 }, 1) });
        return Inference.ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 }));
    }

    [Fact]
    public void AChainOfConcatsLivesInTheLastOnesBuffer()
    {
        var model = Chain();
        var graph = new global::Loom.Runtime.CompiledGraph(model.Graph, model.Opsets, global::Loom.Kernels.KernelRegistry.Default, new LoomSessionOptions(), null);
        var placed = Enumerable.Range(0, 4).Select(step => graph.Concats.TryMember(step, 0, out var s) ? s : default).ToArray();
        Assert.Equal((4, 0L, 6L), placed[0]);   // x0: the prefix of everything, though Abs reads it too
        Assert.Equal((4, 6L, 6L), placed[1]);   // Abs(x0)
        Assert.Equal((4, 0L, 12L), placed[2]);  // c1 itself: the first half of c2's buffer
        Assert.Equal((4, 12L, 12L), placed[3]); // Relu(c1)
        Assert.True(graph.Concats.TryConcat(4, out var whole) && whole.Length == 24);
    }

    [Theory]
    [InlineData(ExecutionMode.Sequential, 1)]
    [InlineData(ExecutionMode.Sequential, 2)]
    [InlineData(ExecutionMode.Parallel, 2)]
    public void AChainGivesTheHandComputedResultRunAfterRun(ExecutionMode mode, int threads)
    {
        using var session = LoomSession.Create(Chain(), new LoomSessionOptions { ExecutionMode = mode, IntraOpThreads = threads });
        for (int run = 0; run < 5; run++)
        {
            float[] x = [run, -1, 2.5f, -3, 0.5f, -run];
            using var r = session.Run(("x", Tensor.FromArray(x, 1, 2, 3)));
            var c1 = x.Select(v => -v).Concat(x.Select(Math.Abs)).ToArray();
            var expected = c1.Concat(c1.Select(v => Math.Max(v, 0))).Select(v => v + 1);
            Assert.Equal(expected, r.Tensor("y").ToArray<float>());
        }
    }

    // s = Add(x, z) with x [n, 2, h] and z [n, 2, w]: symbolic inference cannot prove h = w, so s gets a fresh symbol no input binds
    // (as the PP-OCR detector's upsampled maps do); c = Concat(Relu(s), Neg(s)) on axis 1; y = c + 1.
    private static Model Symbolic()
    {
        var x = new TensorType(DataType.Float, new Shape(new[] { Dim.Symbol("n"), Dim.Of(2), Dim.Symbol("h") }));
        var z = new TensorType(DataType.Float, new Shape(new[] { Dim.Symbol("n"), Dim.Of(2), Dim.Symbol("w") }));
        var nodes = new Node[]
        {
            new("Add", ["x", "z"], ["s"]), new("Relu", ["s"], ["a"]), new("Neg", ["s"], ["b"]),
            new("Concat", ["a", "b"], ["c"], [IR.Attribute.Int("axis", 1)]),
            new("Add", ["c", "one"], ["y"]),
        };
        var g = new Graph("g", [new ValueInfo("x", x), new ValueInfo("z", z)], [new ValueInfo("y", null)], nodes,
            new Dictionary<string, Tensor> { ["one"] = Tensor.FromArray(new float[] { 1 }, 1) });
        return Inference.ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 }));
    }

    [Fact]
    public void SymbolicShapesArePlacedAtTheRunsSizes()
    {
        var model = Symbolic();
        Assert.Contains(model.Graph.ValueTypes, kv => kv.Key == "s" && kv.Value is TensorType { Shape: { } s } && s[2].SymbolName is not ("h" or "w"));
        var graph = new global::Loom.Runtime.CompiledGraph(model.Graph, model.Opsets, global::Loom.Kernels.KernelRegistry.Default, new LoomSessionOptions(), null);
        Assert.False(graph.Concats.TryConcat(3, out _)); // nothing known at compile time

        global::Loom.Runtime.SymbolBindings Sizes(int n, int h)
        {
            var b = new global::Loom.Runtime.SymbolBindings();
            b.Unify(model.Graph.Inputs[0].Type is TensorType { Shape: { } sx } ? sx : null!, [n, 2, h]);
            b.Unify(model.Graph.Inputs[1].Type is TensorType { Shape: { } sz } ? sz : null!, [n, 2, h]);
            return b;
        }
        var one = graph.ConcatsFor(Sizes(1, 3));
        Assert.True(one.TryMember(1, 0, out var relu));
        Assert.True(one.TryMember(2, 0, out var neg));
        Assert.Equal(((3, 0L, 6L), (3, 6L, 6L)), (relu, neg)); // Relu(s): elements 0..5 of the Concat (step 3), Neg(s): 6..11
        Assert.True(one.TryConcat(3, out var whole) && whole.Length == 12);
        Assert.Same(one, graph.ConcatsFor(Sizes(1, 3))); // planned once per size
        Assert.True(graph.ConcatsFor(Sizes(1, 5)).TryConcat(3, out var wider) && wider.Length == 20);
        Assert.False(graph.ConcatsFor(Sizes(2, 3)).TryConcat(3, out _)); // two samples: the slices are not contiguous
    }

    [Theory]
    [InlineData(ExecutionMode.Sequential, 1)]
    [InlineData(ExecutionMode.Sequential, 2)]
    [InlineData(ExecutionMode.Parallel, 2)]
    public void SymbolicShapesGiveTheHandComputedConcatAtChangingSizes(ExecutionMode mode, int threads)
    {
        using var session = LoomSession.Create(Symbolic(), new LoomSessionOptions { ExecutionMode = mode, IntraOpThreads = threads, VerifyInferredShapes = true });
        foreach (var (n, h) in new[] { (1, 3), (1, 3), (2, 3), (1, 4), (1, 3), (3, 2), (1, 4) })
        {
            var x = Enumerable.Range(0, n * 2 * h).Select(i => (float)(i % 5) - 2.5f * n).ToArray();
            var z = Enumerable.Range(0, n * 2 * h).Select(i => (float)(i % 3) - h).ToArray();
            using var r = session.Run(("x", Tensor.FromArray(x, n, 2, h)), ("z", Tensor.FromArray(z, n, 2, h)));
            var s = x.Zip(z, (p, q) => p + q).ToArray();
            var expected = Enumerable.Range(0, n).SelectMany(k => s.Skip(k * 2 * h).Take(2 * h).Select(v => Math.Max(v, 0) + 1)
                .Concat(s.Skip(k * 2 * h).Take(2 * h).Select(v => -v + 1)));
            Assert.Equal(expected, r.Tensor("y").ToArray<float>());
            Assert.Equal([n, 4, h], r.Tensor("y").Shape.ToArray());
        }
    }
}
