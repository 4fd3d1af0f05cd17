using Loom.Inference;
using Loom.IR;

namespace Loom.Tests.Passes;

/// <summary>Small graphs built in code for pass tests, and their text form without inferred types.</summary>
internal static class PassTestModels
{
    /// <summary>A tensor type from its text, e.g. <c>float32[batch,3]</c>.</summary>
    public static TensorType T(string text)
    {
        int bracket = text.IndexOf('[');
        Assert.True(DataTypes.TryParse(text[..bracket], out var dt), $"unknown dtype in {text}");
        return new TensorType(dt, Shape.Parse(text[bracket..]));
    }

    public static ValueInfo V(string name, string? type = null) => new(name, type is null ? null : T(type));

    public static Node N(string op, string[] inputs, string[] outputs, params IR.Attribute[] attributes) => new(op, inputs, outputs, attributes);

    public static Node Const(string name, Tensor value) => new("Constant", [], [name], [IR.Attribute.Tensor("value", value)]);

    public static Tensor F(params float[] values) => Tensor.FromArray(values, values.Length);

    public static Tensor F(float[] values, params int[] shape) => Tensor.FromArray(values, shape);

    public static Model M(Graph g, int opset = 17, long irVersion = 8) => new(g, new Dictionary<string, int> { [""] = opset }, irVersion);

    /// <summary>The model with every value's inferred type, as the pipeline gives passes.</summary>
    public static Model Inferred(Graph g, int opset = 17) => ShapeInference.Run(M(g, opset));

    /// <summary>The graph's text without inferred types (inputs keep their declared ones), subgraphs included.</summary>
    public static string Text(Model m) => TextForm.FormatGraph(Untyped(m.Graph));

    private static Graph Untyped(Graph g) => new(g.Name, g.Inputs, g.Outputs.Select(o => o with { Type = null }),
        g.Nodes.Select(n => n.WithSubgraphs(Untyped)), g.Initializers);

    /// <summary>Compares with expected text written as a raw string literal (indentation and CR stripped).</summary>
    public static void AssertText(string expected, Model actual) =>
        Assert.Equal(expected.Replace("\r", "").TrimEnd() + "\n", Text(actual));
}
