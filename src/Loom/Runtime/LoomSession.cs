using System.Collections.Immutable;
using Loom.Import.Onnx;
using Loom.Inference;
using Loom.IR;
using Loom.Kernels;
using Loom.Passes;
using Loom.Runtime;

namespace Loom;

/// <summary>Name and type of a model input or output, with its symbolic dims.</summary>
public sealed record ValueMetadata(string Name, IrType? Type)
{
    /// <summary>The element type, if this is a tensor of known dtype.</summary>
    public DataType ElementType => (Type as TensorType)?.ElementType ?? DataType.Undefined;

    /// <summary>The (possibly symbolic) shape, if this is a tensor of known rank.</summary>
    public Shape? Shape => (Type as TensorType)?.Shape;

    /// <summary>Names of the symbolic dims (<c>batch</c>, <c>seq</c>) the shape uses.</summary>
    public IEnumerable<string> Symbols => Shape?.Dims.SelectMany(d => d.Symbols).Distinct() ?? [];
}

/// <summary>
/// A loaded, compiled model, ready to run. Like ONNX Runtime's <c>InferenceSession</c>:
/// <code>
/// using var session = LoomSession.Load("model.onnx");
/// using var outputs = session.Run(new Dictionary&lt;string, LoomValue&gt; { ["x"] = Tensor.FromArray(data, 1, 3, 224, 224) });
/// </code>
/// <see cref="Run(IReadOnlyDictionary{string, LoomValue}, CancellationToken)"/> may be called from many threads at once.
/// </summary>
public sealed class LoomSession : IDisposable
{
    private readonly CompiledGraph _main;

    private LoomSession(Model model, LoomSessionOptions options, KernelRegistry? registry)
    {
        Options = options;
        OpsetSupport.Check(model);
        Model = ShapeInference.Run(model);
        Verifier.Verify(Model);
        if (options.OptimizationLevel > 0)
        {
            var passes = new PassOptions { MaxFoldedTensorBytes = Math.Min(options.MaxFoldedTensorBytes, options.MaxTensorBytes) };
            Model = PassPipeline.ForLevel(options.OptimizationLevel, passes).Run(Model, typesUpToDate: true);
            Verifier.Verify(Model);
        }
        _main = new CompiledGraph(Model.Graph, Model.Opsets, registry ?? KernelRegistry.Default, options, parent: null);
        Inputs = Model.Graph.RequiredInputs.Select(i => new ValueMetadata(i.Name, i.Type)).ToImmutableArray();
        Outputs = Model.Graph.Outputs.Select(o => new ValueMetadata(o.Name, o.Type ?? Model.Graph.TypeOf(o.Name))).ToImmutableArray();
    }

    /// <summary>Loads an ONNX model file; external data is read from the file's folder.</summary>
    public static LoomSession Load(string path, LoomSessionOptions? options = null)
    {
        options ??= new LoomSessionOptions();
        return new LoomSession(OnnxImporter.Load(path, options), options, null);
    }

    /// <summary>Loads an ONNX model from bytes.</summary>
    public static LoomSession Load(byte[] modelBytes, LoomSessionOptions? options = null)
    {
        options ??= new LoomSessionOptions();
        return new LoomSession(OnnxImporter.Load(modelBytes, options), options, null);
    }

    /// <summary>Compiles a model already in Loom's IR (built in code or transformed by passes).</summary>
    public static LoomSession Create(Model model, LoomSessionOptions? options = null, KernelRegistry? registry = null) =>
        new(model, options ?? new LoomSessionOptions(), registry);

    /// <summary>The model with every value's inferred type.</summary>
    public Model Model { get; }

    public LoomSessionOptions Options { get; }

    /// <summary>Inputs a caller must feed (inputs with an initializer default are left out).</summary>
    public ImmutableArray<ValueMetadata> Inputs { get; }

    public ImmutableArray<ValueMetadata> Outputs { get; }

    /// <summary>The model's metadata_props.</summary>
    public ImmutableDictionary<string, string> Metadata => Model.Metadata;

    public RunResult Run(params (string Name, LoomValue Value)[] inputs) =>
        Run(inputs.ToDictionary(i => i.Name, i => i.Value));

    /// <summary>Runs the model. Inputs are checked against the model's names, dtypes, ranks and dims first.</summary>
    public RunResult Run(IReadOnlyDictionary<string, LoomValue> inputs, CancellationToken cancellation = default)
    {
        var graph = Model.Graph;
        var bindings = new SymbolBindings();
        foreach (var name in inputs.Keys)
            if (!graph.Inputs.Any(i => i.Name == name))
                throw new InputException($"the model has no input named '{name}' (inputs: {string.Join(", ", graph.RequiredInputs.Select(i => i.Name))})");

        var values = new LoomValue?[graph.Inputs.Length];
        for (int i = 0; i < values.Length; i++)
        {
            var info = graph.Inputs[i];
            if (inputs.TryGetValue(info.Name, out var v))
            {
                Check(info, v, bindings);
                values[i] = v;
            }
            else if (!graph.Initializers.ContainsKey(info.Name))
                throw new InputException($"input '{info.Name}' ({info.Type}) was not given");
        }
        var outputs = _main.Execute(new RunState(Options, bindings, cancellation), null, values);
        return new RunResult(outputs.Select((o, i) => new NamedValue(graph.Outputs[i].Name, o)).ToArray());
    }

    private static void Check(ValueInfo info, LoomValue value, SymbolBindings bindings)
    {
        if (value is null) throw new InputException($"input '{info.Name}' is null");
        switch (info.Type, value)
        {
            case (null, _):
                return;
            case (TensorType expected, Tensor t):
                if (expected.ElementType != DataType.Undefined && expected.ElementType != t.DataType)
                    throw new InputException($"input '{info.Name}' must be {expected.ElementType.Name()}, but a {t.DataType.Name()} tensor was given");
                if (expected.Shape is not null && bindings.Unify(expected.Shape, t.Shape) is { } why)
                    throw new InputException($"input '{info.Name}' must have shape {expected.Shape}, but {ShapeMath.Format(t.Shape)} was given: {why}");
                return;
            case (TensorType, _):
                throw new InputException($"input '{info.Name}' must be a tensor, but {value.Type} was given");
            case (SequenceType, not TensorSequence):
                throw new InputException($"input '{info.Name}' must be a sequence, but {value.Type} was given");
            case (OptionalType, not OptionalValue):
                throw new InputException($"input '{info.Name}' must be an optional, but {value.Type} was given");
        }
    }

    public void Dispose() { }
}
