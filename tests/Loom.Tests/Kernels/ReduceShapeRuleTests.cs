using Loom.Inference;
using Loom.IR;
using A = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>Shape rules of the family on symbolic shapes, constant and run-time axes.</summary>
public sealed class ReduceShapeRuleTests
{
    /// <summary>An input: a symbolic graph input, or a constant (initializer).</summary>
    private sealed record In(DataType Type, string? Shape, Tensor? Constant = null);

    private static In Sym(string shape, DataType type = DataType.Float) => new(type, shape);
    private static In Const(Tensor t) => new(t.DataType, null, t);

    private static IReadOnlyList<TensorType?> Infer(string op, A[] attributes, int opset, int outputs, params In?[] inputs)
    {
        var names = inputs.Select((x, i) => x is null ? "" : $"in{i}").ToList();
        var graphInputs = inputs.Select((x, i) => x is { Constant: null } ? new ValueInfo($"in{i}", new TensorType(x.Type, x.Shape is null ? null : Shape.Parse(x.Shape))) : null)
            .Where(v => v is not null).Select(v => v!);
        var initializers = inputs.Select((x, i) => (x, i)).Where(p => p.x?.Constant is not null).ToDictionary(p => $"in{p.i}", p => p.x!.Constant!);
        var outNames = Enumerable.Range(0, outputs).Select(i => $"out{i}").ToList();
        var graph = new Graph("g", graphInputs, outNames.Select(o => new ValueInfo(o, null)), [new Node(op, names, outNames, attributes, "n", "")], initializers);
        var model = ShapeInference.Run(new Model(graph, new Dictionary<string, int> { [""] = opset }, irVersion: 10));
        return model.Graph.Outputs.Select(o => o.Type as TensorType).ToList();
    }

    private static string ShapeOf(TensorType? t) => t?.Shape?.ToString() ?? "unknown";

    [Fact]
    public void ReduceKeepsSymbolsOfKeptDims()
    {
        var axes = Const(Tensor.FromArray(new long[] { -1 }, 1));
        Assert.Equal("[batch,seq,1]", ShapeOf(Infer("ReduceMean", [], 18, 1, Sym("[batch,seq,768]"), axes)[0]));
        Assert.Equal("[batch,seq]", ShapeOf(Infer("ReduceMean", [A.Int("keepdims", 0)], 18, 1, Sym("[batch,seq,768]"), axes)[0]));
        Assert.Equal("[batch]", ShapeOf(Infer("ReduceSum", [A.Ints("axes", [1, 2]), A.Int("keepdims", 0)], 11, 1, Sym("[batch,seq,768]"))[0]));
        Assert.Equal("[]", ShapeOf(Infer("ReduceMax", [A.Int("keepdims", 0)], 18, 1, Sym("[batch,4]"))[0]));
        Assert.Equal("[batch,4]", ShapeOf(Infer("ReduceMax", [A.Int("noop_with_empty_axes", 1)], 18, 1, Sym("[batch,4]"))[0]));
    }

    [Fact]
    public void RunTimeAxesKeepTheRankOnlyWithKeepDims()
    {
        var keep = Infer("ReduceSum", [], 13, 1, Sym("[batch,1,4]"), Sym("[1]", DataType.Int64))[0];
        Assert.Equal(3, keep!.Shape!.Rank);
        Assert.Equal(Dim.One, keep.Shape[1]); // a 1 stays 1 whether reduced or not
        Assert.Null(Infer("ReduceSum", [A.Int("keepdims", 0)], 13, 1, Sym("[batch,1,4]"), Sym("[1]", DataType.Int64))[0]!.Shape);
    }

    [Fact]
    public void ArgMaxAndTopK()
    {
        var arg = Infer("ArgMax", [A.Int("axis", 1), A.Int("keepdims", 0)], 13, 1, Sym("[batch,10]"))[0];
        Assert.Equal(DataType.Int64, arg!.ElementType);
        Assert.Equal("[batch]", ShapeOf(arg));
        var topk = Infer("TopK", [], 11, 2, Sym("[batch,10]"), Const(Tensor.FromArray(new long[] { 3 }, 1)));
        Assert.Equal("[batch,3]", ShapeOf(topk[0]));
        Assert.Equal(DataType.Int64, topk[1]!.ElementType);
        var runtimeK = Infer("TopK", [], 11, 2, Sym("[batch,10]"), Sym("[1]", DataType.Int64));
        Assert.NotNull(runtimeK[0]!.Shape![1].SymbolName);
    }

    [Fact]
    public void NormalizationStatistics()
    {
        var ln = Infer("LayerNormalization", [A.Int("axis", -2)], 17, 3, Sym("[batch,seq,768]"), Sym("[seq,768]"));
        Assert.Equal("[batch,seq,768]", ShapeOf(ln[0]));
        Assert.Equal("[batch,1,1]", ShapeOf(ln[1]));
        Assert.Equal(DataType.Float, ln[2]!.ElementType);
        var rms = Infer("RMSNormalization", [], 23, 1, Sym("[batch,8]", DataType.Float16), Sym("[8]"))[0];
        Assert.Equal(DataType.Float, rms!.ElementType); // Y has Scale's type
        var bn = Infer("BatchNormalization", [A.Int("training_mode", 1)], 15, 3, Sym("[batch,4,h,w]"), Sym("[4]"), Sym("[4]"), Sym("[4]"), Sym("[4]"));
        Assert.Equal("[batch,4,h,w]", ShapeOf(bn[0]));
        Assert.Equal("[4]", ShapeOf(bn[2]));
    }

    [Fact]
    public void LossesAndDet()
    {
        var none = Infer("NegativeLogLikelihoodLoss", [A.String("reduction", "none")], 13, 1, Sym("[batch,5,d]"), Sym("[batch,d]", DataType.Int64))[0];
        Assert.Equal("[batch,d]", ShapeOf(none));
        var sce = Infer("SoftmaxCrossEntropyLoss", [], 13, 2, Sym("[batch,5]"), Sym("[batch]", DataType.Int64));
        Assert.Equal("[]", ShapeOf(sce[0]));
        Assert.Equal("[batch,5]", ShapeOf(sce[1]));
        Assert.Equal("[batch]", ShapeOf(Infer("Det", [], 11, 1, Sym("[batch,n,n]"))[0]));
    }

    [Fact]
    public void ReducedShapeValuesFlowOn()
    {
        // ReduceProd of a shape vector is an element count, still known downstream (here as TopK's k).
        var graph = new Graph("g", [new ValueInfo("x", new TensorType(DataType.Float, Shape.Parse("[batch,10]")))],
            [new ValueInfo("values", null), new ValueInfo("indices", null)],
            [new Node("ReduceProd", ["dims"], ["k"], [A.Int("keepdims", 1)], "prod", ""), new Node("TopK", ["x", "k"], ["values", "indices"], null, "topk", "")],
            new Dictionary<string, Tensor> { ["dims"] = Tensor.FromArray(new long[] { 2, 3 }, 2) });
        var model = ShapeInference.Run(new Model(graph, new Dictionary<string, int> { [""] = 18 }, irVersion: 10));
        Assert.Equal("[batch,6]", ShapeOf(model.Graph.Outputs[0].Type as TensorType));
    }
}
