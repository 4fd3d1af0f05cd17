using Loom.IR;

namespace Loom.Tests.WorkloadTests;

/// <summary>Small models whose FLOPs, parameters and tensor-parallel collectives can be worked out by hand.</summary>
internal static class TinyModels
{
    private static Tensor Weight(params int[] shape) => Tensor.FromArray(new float[shape.Aggregate(1, (a, d) => a * d)], shape);

    private static TensorType F(params Dim[] dims) => new(DataType.Float, new Shape(dims));

    /// <summary>
    /// x[batch,8] → MatMul W0[8,8] → Relu → MatMul W1[8,16] → Relu → MatMul W2[16,8] → Relu → MatMul W3[8,8] → y.
    /// Parameters: (64 + 128 + 128 + 64) floats = 1,536 bytes.
    /// </summary>
    public static Model Mlp()
    {
        var batch = Dim.Symbol("batch");
        var inits = new Dictionary<string, Tensor> { ["W0"] = Weight(8, 8), ["W1"] = Weight(8, 16), ["W2"] = Weight(16, 8), ["W3"] = Weight(8, 8) };
        var nodes = new List<Node>
        {
            new("MatMul", ["x", "W0"], ["h0"], name: "mm0"), new("Relu", ["h0"], ["r0"], name: "relu0"),
            new("MatMul", ["r0", "W1"], ["h1"], name: "mm1"), new("Relu", ["h1"], ["r1"], name: "relu1"),
            new("MatMul", ["r1", "W2"], ["h2"], name: "mm2"), new("Relu", ["h2"], ["r2"], name: "relu2"),
            new("MatMul", ["r2", "W3"], ["y"], name: "mm3"),
        };
        var g = new Graph("mlp", [new ValueInfo("x", F(batch, 8))], [new ValueInfo("y", F(batch, 8))], nodes, inits);
        return new Model(g, new Dictionary<string, int> { [""] = 17 });
    }

    /// <summary>
    /// Self-attention, B=2, S=4, E=8, H=2 heads of D=4: q, k, v = x·Wq, x·Wk, x·Wv; heads by Reshape [B,S,H,D] and
    /// Transpose; p = Softmax(q·kᵀ); o = (p·v) back to [B,S,E]; y = o·Wo.
    /// </summary>
    public static Model Attention()
    {
        var inits = new Dictionary<string, Tensor>
        {
            ["Wq"] = Weight(8, 8), ["Wk"] = Weight(8, 8), ["Wv"] = Weight(8, 8), ["Wo"] = Weight(8, 8),
            ["heads"] = Tensor.FromArray(new long[] { 2, 4, 2, 4 }, 4), ["merged"] = Tensor.FromArray(new long[] { 2, 4, 8 }, 3),
        };
        var perm = IR.Attribute.Ints("perm", [0, 2, 1, 3]);
        var nodes = new List<Node>
        {
            new("MatMul", ["x", "Wq"], ["q"], name: "q"), new("MatMul", ["x", "Wk"], ["k"], name: "k"), new("MatMul", ["x", "Wv"], ["v"], name: "v"),
            new("Reshape", ["q", "heads"], ["q4"], name: "q4"), new("Reshape", ["k", "heads"], ["k4"], name: "k4"), new("Reshape", ["v", "heads"], ["v4"], name: "v4"),
            new("Transpose", ["q4"], ["qh"], [perm], name: "qh"), new("Transpose", ["k4"], ["kt"], [IR.Attribute.Ints("perm", [0, 2, 3, 1])], name: "kt"),
            new("Transpose", ["v4"], ["vh"], [perm], name: "vh"),
            new("MatMul", ["qh", "kt"], ["s"], name: "scores"), new("Softmax", ["s"], ["p"], [IR.Attribute.Int("axis", -1)], name: "softmax"),
            new("MatMul", ["p", "vh"], ["oh"], name: "context"), new("Transpose", ["oh"], ["o4"], [perm], name: "merge"),
            new("Reshape", ["o4", "merged"], ["o"], name: "o"), new("MatMul", ["o", "Wo"], ["y"], name: "out"),
        };
        var g = new Graph("attention", [new ValueInfo("x", F(2, 4, 8))], [new ValueInfo("y", F(2, 4, 8))], nodes, inits);
        return new Model(g, new Dictionary<string, int> { [""] = 17 });
    }

    /// <summary>x[1,3,8,8] → Conv W[4,3,3,3] + B[4], pads 1 → y[1,4,8,8]: 2·256·27 + 256 = 14,080 FLOPs.</summary>
    public static Model Conv()
    {
        var inits = new Dictionary<string, Tensor> { ["W"] = Weight(4, 3, 3, 3), ["B"] = Weight(4) };
        var conv = new Node("Conv", ["x", "W", "B"], ["y"], [IR.Attribute.Ints("pads", [1, 1, 1, 1]), IR.Attribute.Ints("kernel_shape", [3, 3])], name: "conv");
        var g = new Graph("conv", [new ValueInfo("x", F(1, 3, 8, 8))], [new ValueInfo("y", F(1, 4, 8, 8))], [conv], inits);
        return new Model(g, new Dictionary<string, int> { [""] = 17 });
    }
}
