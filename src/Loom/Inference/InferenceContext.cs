using System.Collections.Immutable;
using Loom.IR;

namespace Loom.Inference;

/// <summary>Infers the output types of one operator from its inputs' types (and constant or symbolic input values).</summary>
public delegate void ShapeRule(InferenceContext ctx);

/// <summary>
/// What a <see cref="ShapeRule"/> sees of one node: its attributes and opset, the types of its inputs,
/// the values of inputs known at compile time (constants, and integer shape tensors as symbolic dims),
/// and where to put the output types it computes.
/// </summary>
public sealed class InferenceContext
{
    private readonly GraphInference _graph;
    private readonly IrType?[] _outputs;
    private readonly ImmutableArray<Dim>?[] _outputValues;
    private readonly Tensor?[] _outputConstants;

    internal InferenceContext(GraphInference graph, Node node, int opset)
    {
        _graph = graph;
        Node = node;
        Opset = opset;
        _outputs = new IrType?[node.Outputs.Length];
        _outputValues = new ImmutableArray<Dim>?[node.Outputs.Length];
        _outputConstants = new Tensor?[node.Outputs.Length];
    }

    public Node Node { get; }

    /// <summary>The version of the node's domain the model imports.</summary>
    public int Opset { get; }

    public int InputCount => Node.Inputs.Length;
    public int OutputCount => Node.Outputs.Length;

    public bool HasInput(int i) => Node.HasInput(i);

    public IrType? InputType(int i) => HasInput(i) ? _graph.TypeOf(Node.Inputs[i]) : null;

    public TensorType? InputTensorType(int i) => InputType(i) as TensorType;

    /// <summary>The input's dtype, or <see cref="DataType.Undefined"/> when unknown.</summary>
    public DataType InputDataType(int i) => InputTensorType(i)?.ElementType ?? DataType.Undefined;

    /// <summary>The input's shape, or null if its rank is unknown.</summary>
    public Shape? InputShape(int i) => InputTensorType(i)?.Shape;

    /// <summary>The input's value if it is a compile-time constant (initializer or Constant node).</summary>
    public Tensor? ConstantInput(int i) => HasInput(i) ? _graph.ConstantOf(Node.Inputs[i]) : null;

    /// <summary>
    /// The elements of an integer input of rank 0 or 1 as dims, when known at compile time — from a
    /// constant or propagated symbolically (the output of <c>Shape</c>, and arithmetic on it). This is
    /// what lets <c>Reshape(x, Concat(Shape(x)[0], -1))</c> keep the symbol <c>batch</c>.
    /// </summary>
    public ImmutableArray<Dim>? ShapeValue(int i) => HasInput(i) ? _graph.ShapeValueOf(Node.Inputs[i]) : null;

    public long GetInt(string name, long defaultValue) => Node.GetInt(name, defaultValue);
    public float GetFloat(string name, float defaultValue) => Node.GetFloat(name, defaultValue);
    public string GetString(string name, string defaultValue) => Node.GetString(name, defaultValue);
    public ImmutableArray<long>? GetInts(string name) => Node.GetInts(name);

    public IrType? OutputType(int i) => _outputs[i];

    public void SetOutput(int i, IrType? type)
    {
        if (i < _outputs.Length) _outputs[i] = type;
    }

    public void SetOutput(int i, DataType dataType, Shape? shape) => SetOutput(i, new TensorType(dataType, shape));

    /// <summary>Records the symbolic value of an integer output of rank 0 or 1 (for shape arithmetic downstream).</summary>
    public void SetShapeValue(int i, ImmutableArray<Dim> values)
    {
        if (i < _outputValues.Length) _outputValues[i] = values;
    }

    /// <summary>Records that output <paramref name="i"/> is a compile-time constant (Constant, or a shape computed from static dims).</summary>
    public void SetConstant(int i, Tensor value)
    {
        if (i < _outputConstants.Length) _outputConstants[i] = value;
    }

    /// <summary>A fresh symbol for a dim only known at run time (the count of NonZero, say).</summary>
    public Dim NewSymbol() => Dim.Symbol(_graph.FreshSymbol());

    /// <summary>Infers a subgraph (If branch, Loop or Scan body) given its input types; returns its output types.</summary>
    public IReadOnlyList<IrType?> InferSubgraph(Graph body, IReadOnlyList<IrType?> inputTypes) => _graph.InferSubgraph(Node, body, inputTypes);

    /// <summary>An error naming this node.</summary>
    public ShapeException Fail(string message) => new($"node {Node.DisplayName}: {message}");

    internal IrType? Output(int i) => _outputs[i];
    internal ImmutableArray<Dim>? OutputValue(int i) => _outputValues[i];
    internal Tensor? ConstantOutput(int i) => _outputConstants[i];
}
