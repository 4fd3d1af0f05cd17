using System.Collections.Immutable;
using Google.Protobuf;
using Loom.Import.Onnx.Proto;
using Loom.IR;

namespace Loom.Import.Onnx;

/// <summary>
/// Reads an ONNX model (file or bytes) into Loom's IR: graphs and subgraphs, initializers (raw, typed,
/// external, sparse), typed attributes, declared value types with symbolic dims, opset imports, and
/// model-local functions (inlined at their call sites). The result is topologically sorted and verified.
/// </summary>
public static class OnnxImporter
{
    public static Model Load(string path, LoomSessionOptions? options = null)
    {
        options ??= new LoomSessionOptions();
        FileInfo info;
        try { info = new FileInfo(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        { throw new ModelFormatException($"'{path}' is not a valid file path: {e.Message}"); }
        if (!info.Exists) throw new ModelFormatException($"model file '{path}' does not exist");
        if (info.Length > options.MaxModelBytes)
            throw new ResourceLimitException($"model file '{path}' has {info.Length} bytes, above the cap of {options.MaxModelBytes} (LoomSessionOptions.MaxModelBytes)");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new ModelFormatException($"cannot read model file '{path}': {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new ModelFormatException($"cannot read model file '{path}': {e.Message}", e); }
        return Load(bytes, path, options.ExternalDataDirectory ?? Path.GetDirectoryName(Path.GetFullPath(path)), options);
    }

    public static Model Load(byte[] bytes, LoomSessionOptions? options = null)
    {
        options ??= new LoomSessionOptions();
        return Load(bytes, "model bytes", options.ExternalDataDirectory, options);
    }

    private static Model Load(byte[] bytes, string where, string? baseDir, LoomSessionOptions options)
    {
        if (bytes.Length > options.MaxModelBytes)
            throw new ResourceLimitException($"{where}: {bytes.Length} bytes, above the cap of {options.MaxModelBytes} (LoomSessionOptions.MaxModelBytes)");
        var ctx = new ImportContext(where, baseDir, options);
        ModelProto proto;
        try { proto = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e) { throw ctx.Format($"not a valid ONNX model (corrupt or truncated protobuf: {e.Message})"); }
        return Import(proto, ctx);
    }

    internal static Model Import(ModelProto proto, ImportContext ctx)
    {
        if (proto.Graph is null) throw ctx.Format("the model has no graph");
        var opsets = new Dictionary<string, int>();
        foreach (var o in proto.OpsetImport)
        {
            var domain = OpsetImports.NormalizeDomain(o.Domain);
            if (o.Version < 1 || o.Version > int.MaxValue) throw ctx.Format($"opset import of domain '{o.Domain}' has invalid version {o.Version}");
            opsets[domain] = (int)o.Version;
        }
        if (proto.OpsetImport.Count == 0 && proto.IrVersion < 3) opsets[""] = 1; // IR v1-2 models predate opset imports
        foreach (var f in proto.Functions) ctx.Functions[(OpsetImports.NormalizeDomain(f.Domain), f.Name)] = f;

        var graph = ImportGraph(proto.Graph, ctx, new HashSet<string>(), isMain: true);
        var model = new Model(graph, opsets, proto.IrVersion, proto.ProducerName, proto.ProducerVersion, proto.Domain,
            proto.ModelVersion, proto.DocString, proto.MetadataProps.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value));
        Verifier.Verify(model);
        return model;
    }

    private static Graph ImportGraph(GraphProto g, ImportContext ctx, HashSet<string> outerScope, bool isMain)
    {
        var initializers = new Dictionary<string, Tensor>();
        foreach (var t in g.Initializer)
        {
            if (string.IsNullOrEmpty(t.Name)) throw ctx.Format($"graph '{g.Name}' has an initializer without a name");
            if (!initializers.TryAdd(t.Name, TensorProtoCodec.Decode(t, ctx, "initializer")))
                throw ctx.Format($"graph '{g.Name}' has two initializers named '{t.Name}'");
        }
        foreach (var s in g.SparseInitializer)
        {
            var dense = SparseTensors.Densify(s, ctx);
            if (!initializers.TryAdd(s.Values?.Name ?? "", dense))
                throw ctx.Format($"graph '{g.Name}' has two initializers named '{s.Values?.Name}'");
        }

        var inputs = g.Input.Select(v => new ValueInfo(v.Name, ImportType(v.Type, ctx, $"input '{v.Name}'"))).ToList();
        var outputs = g.Output.Select(v => new ValueInfo(v.Name, ImportType(v.Type, ctx, $"output '{v.Name}'"))).ToList();
        foreach (var v in inputs.Concat(outputs))
            if (string.IsNullOrEmpty(v.Name)) throw ctx.Format($"graph '{g.Name}' has an input or output without a name");

        var valueTypes = new Dictionary<string, IrType>();
        foreach (var v in g.ValueInfo)
            if (!string.IsNullOrEmpty(v.Name) && ImportType(v.Type, ctx, $"value '{v.Name}'") is { } t) valueTypes[v.Name] = t;

        // Names visible to subgraphs of this graph: everything this graph and its ancestors define.
        var scope = new HashSet<string>(outerScope);
        scope.UnionWith(inputs.Select(i => i.Name));
        scope.UnionWith(initializers.Keys);
        foreach (var n in g.Node) scope.UnionWith(n.Output);

        var nodes = new List<Node>();
        foreach (var n in g.Node) ExpandNode(n, ctx, scope, nodes, 0);

        var graph = new Graph(g.Name, inputs, outputs, nodes, initializers, valueTypes);
        return TopologicalSort.Sort(graph);
    }

    private static void ExpandNode(NodeProto n, ImportContext ctx, HashSet<string> scope, List<Node> into, int depth)
    {
        var domain = OpsetImports.NormalizeDomain(n.Domain);
        if (ctx.Functions.TryGetValue((domain, n.OpType), out var f))
        {
            if (depth > 32) throw ctx.Format($"function '{n.OpType}' calls itself too deeply");
            FunctionInliner.Inline(n, f, ctx, scope, into, depth, ExpandNode);
            return;
        }
        into.Add(ImportNode(n, ctx, scope));
    }

    internal static Node ImportNode(NodeProto n, ImportContext ctx, HashSet<string> scope)
    {
        if (string.IsNullOrEmpty(n.OpType)) throw ctx.Format($"node '{n.Name}' has no op_type");
        var attrs = new List<IR.Attribute>();
        foreach (var a in n.Attribute)
        {
            if (string.IsNullOrEmpty(a.Name)) throw ctx.Format($"node '{n.Name}' ({n.OpType}) has an attribute without a name");
            if (!string.IsNullOrEmpty(a.RefAttrName))
                throw ctx.Format($"node '{n.Name}' ({n.OpType}) attribute '{a.Name}' refers to a function attribute outside a function");
            if (attrs.Any(x => x.Name == a.Name)) throw ctx.Format($"node '{n.Name}' ({n.OpType}) has attribute '{a.Name}' twice");
            attrs.Add(ImportAttribute(a, ctx, scope, n));
        }
        return new Node(n.OpType, n.Input, n.Output, attrs, n.Name, n.Domain);
    }

    internal static IR.Attribute ImportAttribute(AttributeProto a, ImportContext ctx, HashSet<string> scope, NodeProto owner)
    {
        var kind = a.HasType ? a.Type : GuessType(a);
        // Scalars and lists are the common case; build the message naming the attribute only when needed.
        switch (kind)
        {
            case AttributeProto.Types.AttributeType.Float: return IR.Attribute.Float(a.Name, a.F);
            case AttributeProto.Types.AttributeType.Int: return IR.Attribute.Int(a.Name, a.I);
            case AttributeProto.Types.AttributeType.Ints: return IR.Attribute.Ints(a.Name, a.Ints);
            case AttributeProto.Types.AttributeType.String: return IR.Attribute.String(a.Name, a.S.ToStringUtf8());
        }
        string what = $"node '{owner.Name}' ({owner.OpType}) attribute '{a.Name}'";
        return kind switch
        {
            AttributeProto.Types.AttributeType.Float => IR.Attribute.Float(a.Name, a.F),
            AttributeProto.Types.AttributeType.Int => IR.Attribute.Int(a.Name, a.I),
            AttributeProto.Types.AttributeType.String => IR.Attribute.String(a.Name, a.S.ToStringUtf8()),
            AttributeProto.Types.AttributeType.Tensor => IR.Attribute.Tensor(a.Name, TensorProtoCodec.Decode(a.T ?? throw ctx.Format($"{what} is a tensor attribute with no tensor"), ctx, what)),
            AttributeProto.Types.AttributeType.SparseTensor => IR.Attribute.Tensor(a.Name, SparseTensors.Densify(a.SparseTensor ?? throw ctx.Format($"{what} has no sparse tensor"), ctx)),
            AttributeProto.Types.AttributeType.Graph => IR.Attribute.Graph(a.Name, ImportGraph(a.G ?? throw ctx.Format($"{what} is a graph attribute with no graph"), ctx, scope, false)),
            AttributeProto.Types.AttributeType.Floats => IR.Attribute.Floats(a.Name, a.Floats),
            AttributeProto.Types.AttributeType.Ints => IR.Attribute.Ints(a.Name, a.Ints),
            AttributeProto.Types.AttributeType.Strings => IR.Attribute.Strings(a.Name, a.Strings.Select(s => s.ToStringUtf8())),
            AttributeProto.Types.AttributeType.Tensors => IR.Attribute.Tensors(a.Name, a.Tensors.Select(t => TensorProtoCodec.Decode(t, ctx, what))),
            AttributeProto.Types.AttributeType.SparseTensors => IR.Attribute.Tensors(a.Name, a.SparseTensors.Select(t => SparseTensors.Densify(t, ctx))),
            AttributeProto.Types.AttributeType.Graphs => IR.Attribute.Graphs(a.Name, a.Graphs.Select(g => ImportGraph(g, ctx, scope, false))),
            AttributeProto.Types.AttributeType.TypeProto => IR.Attribute.Type(a.Name, ImportType(a.Tp, ctx, what) ?? throw ctx.Format($"{what} has no type")),
            AttributeProto.Types.AttributeType.TypeProtos => IR.Attribute.Types(a.Name, a.TypeProtos.Select(t => ImportType(t, ctx, what) ?? throw ctx.Format($"{what} has an empty type"))),
            _ => throw ctx.Format($"{what} has unknown attribute type {(int)kind}"),
        };
    }

    /// <summary>IR version 1 attributes carry no type field; infer it from the field that is set.</summary>
    private static AttributeProto.Types.AttributeType GuessType(AttributeProto a) =>
        a.HasF ? AttributeProto.Types.AttributeType.Float :
        a.HasI ? AttributeProto.Types.AttributeType.Int :
        a.HasS ? AttributeProto.Types.AttributeType.String :
        a.T is not null ? AttributeProto.Types.AttributeType.Tensor :
        a.G is not null ? AttributeProto.Types.AttributeType.Graph :
        a.Floats.Count > 0 ? AttributeProto.Types.AttributeType.Floats :
        a.Ints.Count > 0 ? AttributeProto.Types.AttributeType.Ints :
        a.Strings.Count > 0 ? AttributeProto.Types.AttributeType.Strings :
        a.Tensors.Count > 0 ? AttributeProto.Types.AttributeType.Tensors :
        a.Graphs.Count > 0 ? AttributeProto.Types.AttributeType.Graphs :
        AttributeProto.Types.AttributeType.Undefined;

    internal static IrType? ImportType(TypeProto? t, ImportContext ctx, string what)
    {
        if (t is null) return null;
        switch (t.ValueCase)
        {
            case TypeProto.ValueOneofCase.TensorType:
            case TypeProto.ValueOneofCase.SparseTensorType:
            {
                int elem = t.ValueCase == TypeProto.ValueOneofCase.TensorType ? t.TensorType.ElemType : t.SparseTensorType.ElemType;
                var shapeProto = t.ValueCase == TypeProto.ValueOneofCase.TensorType ? t.TensorType.Shape : t.SparseTensorType.Shape;
                var dt = (DataType)elem;
                if (!Enum.IsDefined(dt)) throw ctx.Format($"{what} has unknown element type {elem}");
                return new TensorType(dt, shapeProto is null ? null : ImportShape(shapeProto, ctx, what));
            }
            case TypeProto.ValueOneofCase.SequenceType:
                return new SequenceType(ImportType(t.SequenceType.ElemType, ctx, what) ?? new TensorType(DataType.Undefined, null));
            case TypeProto.ValueOneofCase.OptionalType:
                return new OptionalType(ImportType(t.OptionalType.ElemType, ctx, what) ?? new TensorType(DataType.Undefined, null));
            case TypeProto.ValueOneofCase.MapType:
                return new MapType((DataType)t.MapType.KeyType, ImportType(t.MapType.ValueType, ctx, what) ?? new TensorType(DataType.Undefined, null));
            default:
                return null;
        }
    }

    private static Shape ImportShape(TensorShapeProto s, ImportContext ctx, string what)
    {
        var dims = ImmutableArray.CreateBuilder<Dim>(s.Dim.Count);
        foreach (var d in s.Dim)
        {
            if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue)
            {
                if (d.DimValue < 0) dims.Add(Dim.Symbol(ctx.FreshSymbol())); // some exporters write -1 for "unknown"
                else dims.Add(Dim.Of(d.DimValue));
            }
            else if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam && d.DimParam.Length > 0)
                dims.Add(Dim.Symbol(d.DimParam));
            else
                dims.Add(Dim.Symbol(ctx.FreshSymbol()));
        }
        return new Shape(dims.MoveToImmutable());
    }
}
