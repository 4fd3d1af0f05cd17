using System.Reflection;
using Loom.Import.Onnx;
using Loom.Inference;
using Loom.IR;
using Loom.Kernels;
using Loom.Runtime;
using static Loom.Tests.Kernels.ControlFlowModels;

namespace Loom.Tests.Kernels;

/// <summary>If, Loop and Scan on small models with hand-computed results.</summary>
public sealed class ControlFlowTests
{
    // ---- Loop --------------------------------------------------------------------------------

    /// <summary>Body of a counting loop: s += i + 1, and s is also a scan output.</summary>
    private static Graph SumBody(string condOut = "cond_out", Node? condNode = null) => new("sum_body",
        [V("i", I64()), V("cond_in", Bool()), V("s_in", I64())],
        [V(condOut, null), V("s_out", null), V("scan", null)],
        [
            Const("one", Tensor.Scalar(1L)),
            Test("TestAdd", ["i", "one"], ["i1"]),
            Test("TestAdd", ["s_in", "i1"], ["s_out"]),
            condNode ?? N("Identity", ["cond_in"], ["cond_out"]),
            N("Identity", ["s_out"], ["scan"]),
        ],
        valueTypes: new Dictionary<string, IrType> { ["i1"] = I64(), ["s_out"] = I64() }); // TestAdd has no shape rule

    [Fact]
    public void Loop_sums_one_to_n_with_scan_output()
    {
        var g = new Graph("g", [V("m", I64()), V("c", Bool()), V("s0", I64())], [V("s", null), V("scans", null)],
            [N("Loop", ["m", "c", "s0"], ["s", "scans"], IR.Attribute.Graph("body", SumBody()))]);
        var r = Run(g, 13, ("m", Tensor.Scalar(5L)), ("c", Tensor.Scalar(true)), ("s0", Tensor.Scalar(0L)));
        Assert.Equal(15L, ((Tensor)r[0]).AsSpan<long>()[0]);
        var scans = (Tensor)r[1];
        Assert.Equal([5], scans.Shape.ToArray());
        Assert.Equal([1L, 3, 6, 10, 15], scans.ToArray<long>());
    }

    [Fact]
    public void Loop_scan_outputs_have_m_rows_when_m_is_known_and_the_condition_passes_through()
    {
        var g = new Graph("g", [V("s0", I64())], [V("s", null), V("scans", null)],
            [Const("m", Tensor.Scalar(4L)), N("Loop", ["m", "", "s0"], ["s", "scans"], IR.Attribute.Graph("body", SumBody()))]);
        Assert.Equal("int64[4]", Infer(g, 13).Graph.ValueTypes["scans"].ToString());
        Assert.Equal([1L, 3, 6, 10], ((Tensor)Run(g, 13, ("s0", Tensor.Scalar(0L)))[1]).ToArray<long>());
    }

    [Fact]
    public void Nested_loops_capture_values_of_every_enclosing_graph()
    {
        // for i in 0..2: for j in 0..i: total += step   (step from the outermost graph): 6 * step.
        var inner = new Graph("inner", [V("j", I64()), V("c", Bool()), V("t_in", I64())], [V("c_out", null), V("t_out", null)],
            [N("Identity", ["c"], ["c_out"]), Test("TestAdd", ["t_in", "step"], ["t_out"])]);
        var outer = new Graph("outer", [V("i", I64()), V("c", Bool()), V("total_in", I64())], [V("c_out", null), V("total_out", null)],
        [
            N("Identity", ["c"], ["c_out"]),
            Const("one", Tensor.Scalar(1L)),
            Test("TestAdd", ["i", "one"], ["count"]),
            N("Loop", ["count", "", "total_in"], ["total_out"], IR.Attribute.Graph("body", inner)),
        ]);
        var g = new Graph("g", [V("m", I64()), V("step", I64()), V("t0", I64())], [V("total", null)],
            [N("Loop", ["m", "", "t0"], ["total"], IR.Attribute.Graph("body", outer))]);
        var total = (Tensor)Run(g, 13, ("m", Tensor.Scalar(3L)), ("step", Tensor.Scalar(5L)), ("t0", Tensor.Scalar(0L)))[0];
        Assert.Equal(30L, total.AsSpan<long>()[0]);
    }

    [Fact]
    public void Loop_without_trip_count_or_cond_obeys_the_body_condition()
    {
        // cond_out = (i + 1) < limit, limit captured from the outer graph: 3 iterations.
        var body = SumBody("keep", Test("TestLess", ["i1", "limit"], ["keep"]));
        var g = new Graph("g", [V("limit", I64()), V("s0", I64())], [V("s", null), V("scans", null)],
            [N("Loop", ["", "", "s0"], ["s", "scans"], IR.Attribute.Graph("body", body))]);
        var r = Run(g, 13, ("limit", Tensor.Scalar(3L)), ("s0", Tensor.Scalar(100L)));
        Assert.Equal(106L, ((Tensor)r[0]).AsSpan<long>()[0]);
        Assert.Equal([101L, 103, 106], ((Tensor)r[1]).ToArray<long>());
    }

    [Fact]
    public void Loop_with_zero_iterations_returns_initial_values_and_empty_scan_outputs()
    {
        var body = new Graph("b", [V("i", I64()), V("c", Bool()), V("x_in", F32(2))], [V("c_out", null), V("x_out", null), V("row", null)],
            [N("Identity", ["c"], ["c_out"]), N("Identity", ["x_in"], ["x_out"]), Const("row", Tensor.FromArray(new float[] { 1, 2, 3 }, 3))]);
        var g = new Graph("g", [V("m", I64()), V("x", F32(2))], [V("y", null), V("rows", null)],
            [N("Loop", ["m", "", "x"], ["y", "rows"], IR.Attribute.Graph("body", body))]);
        var r = Run(g, 13, ("m", Tensor.Scalar(0L)), ("x", Tensor.FromArray(new float[] { 7, 8 }, 2)));
        Assert.Equal([7f, 8], ((Tensor)r[0]).ToArray<float>());
        Assert.Equal([0, 3], ((Tensor)r[1]).Shape.ToArray());
    }

    /// <summary>acc = Concat(acc, acc) along the given axis each iteration (ConcatFromSequence of a pair).</summary>
    private static Graph DoublingBody(int axis) => new("double",
        [V("i", I64()), V("c", Bool()), V("acc_in", null)], [V("c_out", null), V("acc_out", null)],
        [
            N("Identity", ["c"], ["c_out"]),
            N("SequenceConstruct", ["acc_in", "acc_in"], ["pair"]),
            N("ConcatFromSequence", ["pair"], ["acc_out"], IR.Attribute.Int("axis", axis)),
        ]);

    [Fact]
    public void Loop_carried_value_may_grow_each_iteration()
    {
        var g = new Graph("g", [V("m", I64()), V("x", F32(2, 1))], [V("y", null)],
            [N("Loop", ["m", "", "x"], ["y"], IR.Attribute.Graph("body", DoublingBody(1)))]);
        var y = (Tensor)Run(g, 13, ("m", Tensor.Scalar(3L)), ("x", Tensor.FromArray(new float[] { 1, 2 }, 2, 1)))[0];
        Assert.Equal([2, 8], y.Shape.ToArray());
        Assert.Equal([1f, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2], y.ToArray<float>());

        // Inference keeps the dim that does not change (2) and gives the growing one a symbol, in the
        // body's input and in the Loop's output alike.
        var inferred = Infer(g, 13).Graph;
        var yType = (TensorType)inferred.ValueTypes["y"];
        Assert.Equal(Dim.Of(2), yType.Shape![0]);
        Assert.NotNull(yType.Shape[1].SymbolName);
        var body = inferred.Nodes[0].GetAttribute("body")!.AsGraph();
        var accIn = (TensorType)body.TypeOf("acc_in")!;
        Assert.Equal(Dim.Of(2), accIn.Shape![0]);
        Assert.NotNull(accIn.Shape[1].SymbolName);
    }

    [Fact]
    public void Loop_with_an_invariant_carried_value_keeps_its_shape()
    {
        var body = new Graph("b", [V("i", I64()), V("c", Bool()), V("x_in", null)], [V("c_out", null), V("x_out", null)],
            [N("Identity", ["c"], ["c_out"]), N("Identity", ["x_in"], ["x_out"])]);
        var g = new Graph("g", [V("m", I64()), V("x", F32(3, 4))], [V("y", null)],
            [N("Loop", ["m", "", "x"], ["y"], IR.Attribute.Graph("body", body))]);
        Assert.Equal("float32[3,4]", Infer(g, 13).Graph.ValueTypes["y"].ToString());
    }

    [Fact]
    public void Loop_can_build_a_sequence()
    {
        // seq = SequenceInsert(seq, i) from an empty int64 sequence; afterwards stacked into [0, 1, 2, 3].
        var body = new Graph("b", [V("i", I64()), V("c", Bool()), V("seq_in", null)], [V("c_out", null), V("seq_out", null)],
            [N("Identity", ["c"], ["c_out"]), N("SequenceInsert", ["seq_in", "i"], ["seq_out"])]);
        var g = new Graph("g", [V("m", I64())], [V("seq", null), V("stacked", null)],
        [
            N("SequenceEmpty", [], ["empty"], IR.Attribute.Int("dtype", (long)DataType.Int64)),
            N("Loop", ["m", "", "empty"], ["seq"], IR.Attribute.Graph("body", body)),
            N("ConcatFromSequence", ["seq"], ["stacked"], IR.Attribute.Int("axis", 0), IR.Attribute.Int("new_axis", 1)),
        ]);
        var r = Run(g, 13, ("m", Tensor.Scalar(4L)));
        Assert.Equal(4, ((TensorSequence)r[0]).Count);
        Assert.Equal([0L, 1, 2, 3], ((Tensor)r[1]).ToArray<long>());
    }

    [Fact]
    public void Loop_16_passes_an_optional_carried_value_that_the_body_returns_unwrapped()
    {
        // The body takes optional<tensor>, returns a plain tensor (as ONNX's loop16 test does); the
        // kernel wraps it again for the next iteration.
        var body = new Graph("b", [V("i", I64()), V("c", Bool()), V("opt_in", new OptionalType(I64()))], [V("c_out", null), V("v_out", null)],
        [
            N("Identity", ["c"], ["c_out"]),
            N("OptionalGetElement", ["opt_in"], ["v"]),
            Const("ten", Tensor.Scalar(10L)),
            Test("TestAdd", ["v", "ten"], ["v_out"]),
        ]);
        var g = new Graph("g", [V("m", I64()), V("x", I64())], [V("y", null)],
            [N("Optional", ["x"], ["opt"]), N("Loop", ["m", "", "opt"], ["y"], IR.Attribute.Graph("body", body))]);
        var y = Run(g, 16, ("m", Tensor.Scalar(3L)), ("x", Tensor.Scalar(1L)))[0];
        Assert.Equal(31L, ((Tensor)y).AsSpan<long>()[0]);
    }

    [Fact]
    public void Loop_with_a_huge_trip_count_can_be_cancelled()
    {
        var g = new Graph("g", [V("m", I64()), V("s0", I64())], [V("s", null), V("scans", null)],
            [N("Loop", ["m", "", "s0"], ["s", "scans"], IR.Attribute.Graph("body", SumBody()))]);
        using var session = Session(g, 13);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        Assert.ThrowsAny<OperationCanceledException>(() =>
            session.Run(new Dictionary<string, LoomValue> { ["m"] = Tensor.Scalar(long.MaxValue), ["s0"] = Tensor.Scalar(0L) }, cts.Token));
    }

    // ---- If ----------------------------------------------------------------------------------

    [Theory]
    [InlineData(true, new float[] { 11, 22 })]
    [InlineData(false, new float[] { 1, 2 })]
    public void If_branches_capture_outer_values(bool cond, float[] expected)
    {
        var then = new Graph("then", [], [V("sum", null)], [Test("TestAdd", ["x", "y"], ["sum"])]);
        var otherwise = new Graph("else", [], [V("x", null)], []); // returns the outer value itself
        var g = new Graph("g", [V("c", Bool()), V("x", F32(2)), V("y", F32(2))], [V("r", null)],
            [N("If", ["c"], ["r"], IR.Attribute.Graph("then_branch", then), IR.Attribute.Graph("else_branch", otherwise))]);
        var r = Run(g, 13, ("c", Tensor.Scalar(cond)), ("x", Tensor.FromArray(new float[] { 1, 2 }, 2)), ("y", Tensor.FromArray(new float[] { 10, 20 }, 2)));
        Assert.Equal(expected, ((Tensor)r[0]).ToArray<float>());
    }

    private static Graph ConstBranches(int[] thenShape, int[] elseShape) => new("g", [V("c", Bool())], [V("r", null)],
    [
        N("If", ["c"], ["r"],
            IR.Attribute.Graph("then_branch", new Graph("then", [], [V("a", null)], [Const("a", Tensor.Zeros(DataType.Float, thenShape))])),
            IR.Attribute.Graph("else_branch", new Graph("else", [], [V("b", null)], [Const("b", Tensor.Zeros(DataType.Float, elseShape))]))),
    ]);

    [Theory]
    [InlineData(new[] { 2, 3 }, new[] { 2, 3 }, "float32[2,3]")]
    [InlineData(new[] { 2, 3 }, new[] { 2, 4 }, "float32[2,?]")]
    [InlineData(new[] { 2 }, new[] { 2, 2 }, "float32[*]")]
    public void If_output_type_is_the_union_of_the_branches(int[] thenShape, int[] elseShape, string expected)
    {
        var g = ConstBranches(thenShape, elseShape);
        var type = Infer(g, 13).Graph.ValueTypes["r"].ToString()!;
        Assert.Equal(expected, System.Text.RegularExpressions.Regex.Replace(type, @"d__\d+", "?"));
        foreach (var cond in new[] { true, false })
            Assert.Equal(cond ? thenShape : elseShape, ((Tensor)Run(g, 13, ("c", Tensor.Scalar(cond)))[0]).Shape.ToArray());
    }

    // ---- Scan --------------------------------------------------------------------------------

    /// <summary>s_out = s_in + x_t, and s_out is also the scan output; s_out is declared float[n] (TestAdd has no shape rule).</summary>
    private static Graph RunningSumBody(int n) => new("scan_body",
        [V("s_in", null), V("x_t", null)], [V("s_out", null), V("y_t", null)],
        [Test("TestAdd", ["s_in", "x_t"], ["s_out"]), N("Identity", ["s_out"], ["y_t"])],
        valueTypes: new Dictionary<string, IrType> { ["s_out"] = F32(n) });

    [Fact]
    public void Scan_computes_a_running_sum()
    {
        var g = new Graph("g", [V("s0", F32(2)), V("x", F32(3, 2))], [V("s", null), V("ys", null)],
            [N("Scan", ["s0", "x"], ["s", "ys"], IR.Attribute.Graph("body", RunningSumBody(2)), IR.Attribute.Int("num_scan_inputs", 1))]);
        var r = Run(g, 11, ("s0", Tensor.FromArray(new float[] { 0, 0 }, 2)), ("x", Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2)));
        Assert.Equal([9f, 12], ((Tensor)r[0]).ToArray<float>());
        Assert.Equal([3, 2], ((Tensor)r[1]).Shape.ToArray());
        Assert.Equal([1f, 2, 4, 6, 9, 12], ((Tensor)r[1]).ToArray<float>());
    }

    [Fact]
    public void Scan_honours_axes_and_directions()
    {
        // x is the transpose of [[1,2],[3,4],[5,6]], scanned along axis 1 backwards: rows (5,6), (3,4), (1,2).
        // Running sums (5,6), (8,10), (9,12) are prepended (so the last comes first) along output axis 1.
        var g = new Graph("g", [V("s0", F32(2)), V("x", F32(2, 3))], [V("s", null), V("ys", null)],
        [
            N("Scan", ["s0", "x"], ["s", "ys"], IR.Attribute.Graph("body", RunningSumBody(2)), IR.Attribute.Int("num_scan_inputs", 1),
                IR.Attribute.Ints("scan_input_axes", [1]), IR.Attribute.Ints("scan_input_directions", [1]),
                IR.Attribute.Ints("scan_output_axes", [-1]), IR.Attribute.Ints("scan_output_directions", [1])),
        ]);
        var r = Run(g, 11, ("s0", Tensor.FromArray(new float[] { 0, 0 }, 2)), ("x", Tensor.FromArray(new float[] { 1, 3, 5, 2, 4, 6 }, 2, 3)));
        Assert.Equal([9f, 12], ((Tensor)r[0]).ToArray<float>());
        var ys = (Tensor)r[1];
        Assert.Equal([2, 3], ys.Shape.ToArray());
        Assert.Equal([9f, 8, 5, 12, 10, 6], ys.ToArray<float>());
        Assert.Equal("float32[2,3]", Infer(g, 11).Graph.ValueTypes["ys"].ToString());
    }

    [Fact]
    public void Scan_8_runs_each_batch_row_up_to_its_sequence_length_and_pads_with_zeros()
    {
        // Two rows of three steps; row 1 stops after two. With directions=[1] a row is read backwards
        // from its last valid step.
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 10, 20, 30 }, 2, 3, 1);
        foreach (var (reverse, expectedScan, expectedFinal) in new[]
        {
            (false, new float[] { 1, 3, 6, 10, 30, 0 }, new float[] { 6, 30 }),
            (true, new float[] { 3, 5, 6, 20, 30, 0 }, new float[] { 6, 30 }),
        })
        {
            var g = new Graph("g", [V("lens", I64(2)), V("s0", F32(2, 1)), V("x", F32(2, 3, 1))], [V("s", null), V("ys", null)],
            [
                N("Scan", ["lens", "s0", "x"], ["s", "ys"], IR.Attribute.Graph("body", RunningSumBody(1)), IR.Attribute.Int("num_scan_inputs", 1),
                    IR.Attribute.Ints("directions", [reverse ? 1 : 0])),
            ]);
            var r = Run(g, 8, ("lens", Tensor.FromArray(new long[] { 3, 2 }, 2)), ("s0", Tensor.FromArray(new float[] { 0, 0 }, 2, 1)), ("x", x));
            Assert.Equal(expectedFinal, ((Tensor)r[0]).ToArray<float>());
            Assert.Equal([2, 3, 1], ((Tensor)r[1]).Shape.ToArray());
            Assert.Equal(expectedScan, ((Tensor)r[1]).ToArray<float>());
            Assert.Equal("float32[2,3,1]", Infer(g, 8).Graph.ValueTypes["ys"].ToString());
            Assert.Equal("float32[2,1]", Infer(g, 8).Graph.ValueTypes["s"].ToString());
        }
    }
}

/// <summary>
/// Building and running small models for the control-flow, sequence, optional and random tests. The
/// kernels are Loom's plus two tiny test operators in the domain <c>loom.test</c> (TestAdd, TestLess)
/// that stand in for other operator families inside loop bodies; they have no shape rule, so their
/// outputs' types are unknown to inference.
/// </summary>
internal static class ControlFlowModels
{
    public const string TestDomain = "loom.test";

    public static KernelRegistry Registry { get; } = BuildRegistry();

    private static KernelRegistry BuildRegistry()
    {
        var registry = new KernelRegistry();
        foreach (var type in typeof(KernelRegistry).Assembly.GetTypes())
            if (type.GetCustomAttribute<KernelRegistrationsAttribute>() is not null)
                type.GetMethod("Register", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, [registry]);
        registry.Add("TestAdd", _ => new TestAdd(), domain: TestDomain);
        registry.Add("TestLess", _ => new TestLess(), domain: TestDomain);
        return registry;
    }

    public static ValueInfo V(string name, IrType? type) => new(name, type);
    public static TensorType I64(params int[] dims) => new(DataType.Int64, Shape.Of(dims));
    public static TensorType F32(params int[] dims) => new(DataType.Float, Shape.Of(dims));
    public static TensorType Bool(params int[] dims) => new(DataType.Bool, Shape.Of(dims));

    public static Node N(string op, string[] inputs, string[] outputs, params IR.Attribute[] attributes) => new(op, inputs, outputs, attributes);
    public static Node Test(string op, string[] inputs, string[] outputs) => new(op, inputs, outputs, null, "", TestDomain);
    public static Node Const(string output, Tensor value) => new("Constant", [], [output], [IR.Attribute.Tensor("value", value)]);

    public static Model ToModel(Graph g, int opset) =>
        new(g, new Dictionary<string, int> { [""] = opset, [TestDomain] = 1 }, irVersion: 8);

    /// <summary>Saves the model with Loom's ONNX writer and loads it back into a session (shape verification on).</summary>
    public static LoomSession Session(Graph g, int opset)
    {
        var options = new LoomSessionOptions { VerifyInferredShapes = true };
        var model = OnnxImporter.Load(OnnxExporter.ToBytes(ToModel(g, opset)), options);
        return LoomSession.Create(model, options, Registry);
    }

    public static LoomValue[] Run(Graph g, int opset, params (string Name, LoomValue Value)[] feeds)
    {
        using var session = Session(g, opset);
        using var result = session.Run(feeds.ToDictionary(f => f.Name, f => f.Value));
        return result.Select(r => r.Value).ToArray();
    }

    /// <summary>The model with every value's inferred type.</summary>
    public static Model Infer(Graph g, int opset) => ShapeInference.Run(ToModel(g, opset));

    /// <summary>Elementwise a + b of one dtype (int64 or float); b may be a one-element tensor.</summary>
    private sealed class TestAdd : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var a = ctx.Input(0);
            var b = ctx.Input(1);
            var y = ctx.AllocateOutput(0, a.DataType, a.Shape);
            for (int i = 0; i < a.Length; i++)
            {
                int j = b.Length == 1 ? 0 : i;
                if (a.DataType == DataType.Int64) y.AsSpan<long>()[i] = a.AsSpan<long>()[i] + b.AsSpan<long>()[j];
                else y.AsSpan<float>()[i] = a.AsSpan<float>()[i] + b.AsSpan<float>()[j];
            }
        }
    }

    /// <summary>a &lt; b for int64 scalars.</summary>
    private sealed class TestLess : Kernel
    {
        public override void Run(KernelContext ctx) =>
            ctx.SetOutput(0, Tensor.Scalar(ctx.Input(0).AsSpan<long>()[0] < ctx.Input(1).AsSpan<long>()[0]));
    }
}
