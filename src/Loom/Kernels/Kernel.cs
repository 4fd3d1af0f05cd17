using System.Collections.Immutable;
using Loom.IR;
using Loom.Runtime;

namespace Loom.Kernels;

/// <summary>
/// The compiled form of one node: created once when a session is built (attributes parsed, constant
/// weights prepared), then run any number of times, from many threads at once — so a kernel keeps no
/// mutable state; everything per run lives in the <see cref="KernelContext"/>.
/// </summary>
public abstract class Kernel
{
    public abstract void Run(KernelContext ctx);
}

/// <summary>What a kernel factory knows about the node it compiles.</summary>
public sealed class KernelInfo
{
    private readonly Func<Graph, CompiledGraph> _compileSubgraph;
    private readonly Func<string, Tensor?> _constantOf;
    private readonly Func<string, bool>? _computedOnce;

    internal KernelInfo(Node node, int opset, IReadOnlyList<IrType?> inputTypes, IReadOnlyList<IrType?> outputTypes,
        Func<Graph, CompiledGraph> compileSubgraph, Func<string, Tensor?> constantOf, LoomSessionOptions options,
        Func<string, bool>? computedOnce = null)
    {
        _computedOnce = computedOnce;
        Node = node;
        Opset = opset;
        InputTypes = inputTypes;
        OutputTypes = outputTypes;
        _compileSubgraph = compileSubgraph;
        _constantOf = constantOf;
        Options = options;
    }

    public Node Node { get; }

    /// <summary>The imported version of the node's domain.</summary>
    public int Opset { get; }

    /// <summary>Inferred input types (null where unknown).</summary>
    public IReadOnlyList<IrType?> InputTypes { get; }
    public IReadOnlyList<IrType?> OutputTypes { get; }
    public LoomSessionOptions Options { get; }

    public DataType InputDataType(int i) => i < InputTypes.Count && InputTypes[i] is TensorType t ? t.ElementType : DataType.Undefined;
    public DataType OutputDataType(int i) => i < OutputTypes.Count && OutputTypes[i] is TensorType t ? t.ElementType : DataType.Undefined;

    /// <summary>The value of input <paramref name="i"/> if it is an initializer (for pre-packing weights).</summary>
    public Tensor? ConstantInput(int i) => Node.HasInput(i) ? _constantOf(Node.Inputs[i]) : null;

    /// <summary>
    /// True when input <paramref name="i"/> is not an initializer but is computed once, on the first run, from constants
    /// (weights built by ConstantOfShape and too big to fold at load): the same tensor on every run, so a kernel may
    /// pre-pack it when it first sees it.
    /// </summary>
    public bool InputComputedOnce(int i) => Node.HasInput(i) && _computedOnce is not null && _computedOnce(Node.Inputs[i]);

    /// <summary>Compiles a subgraph attribute (If branch, Loop or Scan body) for <see cref="KernelContext.RunSubgraph"/>.</summary>
    public CompiledGraph CompileSubgraph(Graph g) => _compileSubgraph(g);

    public long GetInt(string name, long defaultValue) => Node.GetInt(name, defaultValue);
    public float GetFloat(string name, float defaultValue) => Node.GetFloat(name, defaultValue);
    public string GetString(string name, string defaultValue) => Node.GetString(name, defaultValue);
    public ImmutableArray<long>? GetInts(string name) => Node.GetInts(name);
    public ImmutableArray<float>? GetFloats(string name) => Node.GetFloats(name);
    public Graph? GetGraph(string name) => Node.GetAttribute(name)?.AsGraph();

    /// <summary>An error naming this node, for attributes or types the kernel cannot accept.</summary>
    public LoomException Fail(string message) => new GraphException($"node {Node.DisplayName}: {message}");
    public UnsupportedException Unsupported(string message) => new($"node {Node.DisplayName}: {message}");
}
