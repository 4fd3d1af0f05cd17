using Loom.Inference;
using Loom.IR;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// Symbolic shape values through Add/Sub/Mul/Div/Max/Min/Cast/Equal/Where. Shape and Reshape belong to
/// another family, so the tests stand in two minimal rules: "TestShape" (the value is the input's dims)
/// and "TestReshape" (the output's shape is input 1's value), which makes the value observable.
/// </summary>
public class ElementwiseShapeValueTests
{
    private static ShapeRules Rules()
    {
        var r = new ShapeRules();
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Max", "Min", "Cast", "Equal", "Where", "Constant" })
            r.Add(op, ShapeRules.Default.Find("", op)!);
        r.Add("TestShape", ctx =>
        {
            var s = ctx.InputShape(0)!;
            ctx.SetOutput(0, DataType.Int64, Shape.Of(s.Rank));
            ctx.SetShapeValue(0, s.Dims);
        });
        r.Add("TestReshape", ctx => ctx.SetOutput(0, ctx.InputDataType(0), ctx.ShapeValue(1) is { } v ? new Shape(v) : null));
        return r;
    }

    /// <summary>The shape "TestReshape" gets from the value the nodes compute into "v", for x of shape [batch, 6].</summary>
    private static Shape? ShapeOfValue(params Node[] nodes)
    {
        var x = new ValueInfo("x", new TensorType(DataType.Float, new Shape([Dim.Symbol("batch"), Dim.Of(6)])));
        var all = new List<Node> { new("TestShape", ["x"], ["s"], null, "shape") };
        all.AddRange(nodes);
        all.Add(new Node("TestReshape", ["x", "v"], ["y"], null, "reshape"));
        var graph = new Graph("g", [x], [new ValueInfo("y", null)], all);
        var model = ShapeInference.Run(new Model(graph, new Dictionary<string, int> { [""] = 21 }), Rules());
        return (model.Graph.TypeOf("y") as TensorType)?.Shape;
    }

    private static Node Const(string name, params long[] values) =>
        new("Constant", [], [name], [Attr.Tensor("value", Tensor.FromArray(values, values.Length))], name);

    private static Node Op(string op, string output, params string[] inputs) => new(op, inputs, [output], null, output);

    [Fact]
    public void ArithmeticKeepsSymbols()
    {
        // v = (s * [2, 1] + [1, 0] - [0, 3]) → [batch*2+1, 3]
        var shape = ShapeOfValue(Const("two", 2, 1), Const("one", 1, 0), Const("three", 0, 3),
            Op("Mul", "m", "s", "two"), Op("Add", "a", "m", "one"), Op("Sub", "v", "a", "three"));
        Assert.Equal("[batch*2+1,3]", shape?.ToString()?.Replace(" ", ""));
    }

    [Fact]
    public void DivisionOfANonNegativeSizeIsFloorDivision()
    {
        var shape = ShapeOfValue(Const("d", 2, 4), Op("Div", "v", "s", "d"));
        Assert.Equal("[batch/2,1]", shape?.ToString()?.Replace(" ", ""));
    }

    [Fact]
    public void DivisionOfAPossiblyNegativeValueIsNotPropagated()
    {
        // (batch - 5) / 2 truncates toward zero in C but floors in Dim: no value, so no shape.
        var shape = ShapeOfValue(Const("five", 5, 0), Const("d", 2, 2), Op("Sub", "t", "s", "five"), Op("Div", "v", "t", "d"));
        Assert.Null(shape);
    }

    [Fact]
    public void MaxAndMin()
    {
        Assert.Equal("[max(3,batch),10]", ShapeOfValue(Const("c", 3, 10), Op("Max", "v", "s", "c"))?.ToString()?.Replace(" ", ""));
        Assert.Equal("[min(100,batch),2]", ShapeOfValue(Const("c", 100, 2), Op("Min", "v", "s", "c"))?.ToString()?.Replace(" ", ""));
    }

    [Fact]
    public void CastBetweenIntegerTypesKeepsTheValue()
    {
        var cast32 = new Node("Cast", ["s"], ["s32"], [Attr.Int("to", (long)DataType.Int32)], "c32");
        var cast64 = new Node("Cast", ["s32"], ["v"], [Attr.Int("to", (long)DataType.Int64)], "c64");
        Assert.Equal("[batch,6]", ShapeOfValue(cast32, cast64)?.ToString()?.Replace(" ", ""));
    }

    [Fact]
    public void WhereOverEqualReplacesMinusOnePlaceholders()
    {
        // The exported-PyTorch pattern: Where(Equal(s, -1), ones, s); a size never equals -1.
        var shape = ShapeOfValue(Const("neg", -1, -1), Const("ones", 1, 1),
            Op("Equal", "eq", "s", "neg"), Op("Where", "v", "eq", "ones", "s"));
        Assert.Equal("[batch,6]", shape?.ToString()?.Replace(" ", ""));
    }

    [Fact]
    public void EqualOfKnownValuesSelects()
    {
        var shape = ShapeOfValue(Const("six", 6, 6), Const("ones", 1, 1),
            Op("Equal", "eq", "s", "six"), Op("Where", "v", "eq", "ones", "s"));
        // batch == 6 is unknown, so the whole value is unknown.
        Assert.Null(shape);
    }
}
