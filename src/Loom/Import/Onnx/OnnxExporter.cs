using Google.Protobuf;
using Loom.Import.Onnx.Proto;
using Loom.IR;

namespace Loom.Import.Onnx;

/// <summary>
/// Writes Loom's IR as an ONNX model: graphs, subgraphs, initializers (raw_data), attributes, opset
/// imports, metadata, and the inferred type of every intermediate value as <c>value_info</c>. Files are
/// written to a temporary name and renamed, so they appear whole or not at all.
/// </summary>
public static class OnnxExporter
{
    public static byte[] ToBytes(Model model) => ToProto(model).ToByteArray();

    public static void Save(Model model, string path)
    {
        var bytes = ToBytes(model);
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new LoomException($"cannot write model '{path}': {e.Message}", e);
        }
    }

    internal static ModelProto ToProto(Model model)
    {
        var p = new ModelProto
        {
            IrVersion = Math.Max(model.IrVersion, 3),
            ProducerName = model.ProducerName,
            ProducerVersion = model.ProducerVersion,
            Domain = model.Domain,
            ModelVersion = model.ModelVersion,
            DocString = model.DocString,
            Graph = ToProto(model.Graph),
        };
        foreach (var kv in model.Opsets.Versions.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            p.OpsetImport.Add(new OperatorSetIdProto { Domain = kv.Key, Version = kv.Value });
        foreach (var kv in model.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            p.MetadataProps.Add(new StringStringEntryProto { Key = kv.Key, Value = kv.Value });
        return p;
    }

    internal static GraphProto ToProto(Graph g)
    {
        var p = new GraphProto { Name = g.Name };
        foreach (var i in g.Inputs) p.Input.Add(ToProto(i.Name, i.Type));
        foreach (var o in g.Outputs) p.Output.Add(ToProto(o.Name, o.Type ?? g.TypeOf(o.Name)));
        foreach (var kv in g.Initializers.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            p.Initializer.Add(TensorProtoCodec.Encode(kv.Value, kv.Key));
        var boundary = new HashSet<string>(g.Inputs.Select(i => i.Name).Concat(g.Outputs.Select(o => o.Name)));
        foreach (var kv in g.ValueTypes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            if (!boundary.Contains(kv.Key) && !g.Initializers.ContainsKey(kv.Key))
                p.ValueInfo.Add(ToProto(kv.Key, kv.Value));
        foreach (var n in g.Nodes) p.Node.Add(ToProto(n));
        return p;
    }

    internal static NodeProto ToProto(Node n)
    {
        var p = new NodeProto { OpType = n.OpType, Name = n.Name, Domain = n.Domain };
        p.Input.AddRange(n.Inputs);
        p.Output.AddRange(n.Outputs);
        foreach (var a in n.Attributes) p.Attribute.Add(ToProto(a));
        return p;
    }

    internal static AttributeProto ToProto(IR.Attribute a)
    {
        var p = new AttributeProto { Name = a.Name };
        switch (a.Kind)
        {
            case AttributeKind.Float: p.Type = AttributeProto.Types.AttributeType.Float; p.F = a.AsFloat(); break;
            case AttributeKind.Int: p.Type = AttributeProto.Types.AttributeType.Int; p.I = a.AsInt(); break;
            case AttributeKind.String: p.Type = AttributeProto.Types.AttributeType.String; p.S = ByteString.CopyFromUtf8(a.AsString()); break;
            case AttributeKind.Tensor: p.Type = AttributeProto.Types.AttributeType.Tensor; p.T = TensorProtoCodec.Encode(a.AsTensor(), ""); break;
            case AttributeKind.Graph: p.Type = AttributeProto.Types.AttributeType.Graph; p.G = ToProto(a.AsGraph()); break;
            case AttributeKind.Floats: p.Type = AttributeProto.Types.AttributeType.Floats; p.Floats.AddRange(a.AsFloats()); break;
            case AttributeKind.Ints: p.Type = AttributeProto.Types.AttributeType.Ints; p.Ints.AddRange(a.AsInts()); break;
            case AttributeKind.Strings: p.Type = AttributeProto.Types.AttributeType.Strings; p.Strings.AddRange(a.AsStrings().Select(ByteString.CopyFromUtf8)); break;
            case AttributeKind.Tensors: p.Type = AttributeProto.Types.AttributeType.Tensors; p.Tensors.AddRange(a.AsTensors().Select(t => TensorProtoCodec.Encode(t, ""))); break;
            case AttributeKind.Graphs: p.Type = AttributeProto.Types.AttributeType.Graphs; p.Graphs.AddRange(a.AsGraphs().Select(ToProto)); break;
            case AttributeKind.Type: p.Type = AttributeProto.Types.AttributeType.TypeProto; p.Tp = ToProto(a.AsType()); break;
            case AttributeKind.Types: p.Type = AttributeProto.Types.AttributeType.TypeProtos; p.TypeProtos.AddRange(a.AsTypes().Select(ToProto)); break;
        }
        return p;
    }

    internal static ValueInfoProto ToProto(string name, IrType? type)
    {
        var p = new ValueInfoProto { Name = name };
        if (type is not null) p.Type = ToProto(type);
        return p;
    }

    internal static TypeProto ToProto(IrType type)
    {
        switch (type)
        {
            case TensorType t:
            {
                var tt = new TypeProto.Types.Tensor { ElemType = (int)t.ElementType };
                if (t.Shape is not null)
                {
                    tt.Shape = new TensorShapeProto();
                    foreach (var d in t.Shape.Dims)
                        tt.Shape.Dim.Add(d.Value is { } v
                            ? new TensorShapeProto.Types.Dimension { DimValue = v }
                            : new TensorShapeProto.Types.Dimension { DimParam = d.SymbolName ?? d.ToString() });
                }
                return new TypeProto { TensorType = tt };
            }
            case SequenceType s: return new TypeProto { SequenceType = new TypeProto.Types.Sequence { ElemType = ToProto(s.Element) } };
            case OptionalType o: return new TypeProto { OptionalType = new TypeProto.Types.Optional { ElemType = ToProto(o.Element) } };
            case MapType m: return new TypeProto { MapType = new TypeProto.Types.Map { KeyType = (int)m.Key, ValueType = ToProto(m.Value) } };
            default: throw new UnsupportedException($"cannot write type {type}");
        }
    }
}
