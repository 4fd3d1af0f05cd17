using Google.Protobuf;
using Loom.Import.Onnx.Proto;
using Loom.IR;

namespace Loom.Import.Onnx;

/// <summary>
/// Reads and writes single values in ONNX's protobuf forms: a <c>TensorProto</c>, a <c>SequenceProto</c>
/// (of tensors or of maps), a <c>MapProto</c> or an <c>OptionalProto</c> — the <c>input_K.pb</c> / <c>output_K.pb</c> files of the conformance data
/// and of <c>loom run --input NAME=FILE.pb</c>.
/// </summary>
public static class ValueProtos
{
    /// <summary>Reads a value; <paramref name="expected"/> (the model's type for it) says which message the bytes hold.</summary>
    public static LoomValue Read(byte[] bytes, IrType? expected, string where, LoomSessionOptions? options = null)
    {
        var ctx = new ImportContext(where, null, options ?? new LoomSessionOptions());
        try
        {
            return expected switch
            {
                SequenceType => FromProto(SequenceProto.Parser.ParseFrom(bytes), ctx),
                MapType => FromProto(MapProto.Parser.ParseFrom(bytes), ctx),
                OptionalType o => FromProto(OptionalProto.Parser.ParseFrom(bytes), o, ctx),
                _ => TensorProtoCodec.Decode(TensorProto.Parser.ParseFrom(bytes), ctx, "tensor"),
            };
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelFormatException($"{where}: not a valid serialized {(expected is SequenceType ? "SequenceProto" : expected is OptionalType ? "OptionalProto" : expected is MapType ? "MapProto" : "TensorProto")} ({e.Message})");
        }
    }

    public static LoomValue ReadFile(string path, IrType? expected, LoomSessionOptions? options = null)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ModelFormatException($"cannot read '{path}': {e.Message}", e); }
        return Read(bytes, expected, path, options);
    }

    /// <summary>The name stored in a serialized TensorProto / SequenceProto / OptionalProto (all keep it in field 1 or 8).</summary>
    public static string? ReadTensorName(byte[] bytes)
    {
        try { return TensorProto.Parser.ParseFrom(bytes).Name; }
        catch (InvalidProtocolBufferException) { return null; }
    }

    private static LoomValue FromProto(SequenceProto s, ImportContext ctx)
    {
        if (s.ElemType == (int)SequenceProto.Types.DataType.Map)
        {
            var maps = s.MapValues.Select(m => FromProto(m, ctx)).ToList();
            return new MapSequence(maps.Count > 0 ? maps[0].KeyType : DataType.String, maps);
        }
        if (s.ElemType != (int)SequenceProto.Types.DataType.Tensor && s.ElemType != 0)
            throw new UnsupportedException($"{ctx.Where}: sequences of {(SequenceProto.Types.DataType)s.ElemType} are not supported");
        var items = s.TensorValues.Select(t => TensorProtoCodec.Decode(t, ctx, "sequence element")).ToList();
        var elem = items.Count > 0 ? items[0].DataType : DataType.Float;
        return new TensorSequence(elem, items);
    }

    /// <summary>A map of int64 or string keys to floats; ONNX stores the values as a sequence of one-element tensors.</summary>
    private static MapValue FromProto(MapProto m, ImportContext ctx)
    {
        var values = m.Values?.TensorValues.Select(t => TensorProtoCodec.Decode(t, ctx, "map value")).ToList() ?? [];
        if (values.Any(v => v.DataType != DataType.Float || v.Length != 1))
            throw new UnsupportedException($"{ctx.Where}: only maps of single float values are supported");
        var floats = values.Select(v => v.AsSpan<float>()[0]);
        return m.KeyType switch
        {
            (int)DataType.Int64 => new MapValue(m.Keys, floats),
            (int)DataType.String => new MapValue(m.StringKeys.Select(k => k.ToStringUtf8()), floats),
            _ => throw new UnsupportedException($"{ctx.Where}: maps with {(DataType)m.KeyType} keys are not supported (int64 or string)"),
        };
    }

    private static LoomValue FromProto(OptionalProto o, OptionalType type, ImportContext ctx)
    {
        LoomValue? inner = o.ElemType switch
        {
            (int)OptionalProto.Types.DataType.Tensor when o.TensorValue is not null => TensorProtoCodec.Decode(o.TensorValue, ctx, "optional element"),
            (int)OptionalProto.Types.DataType.Sequence when o.SequenceValue is not null => FromProto(o.SequenceValue, ctx),
            _ => null,
        };
        return new OptionalValue(type.Element, inner);
    }

    /// <summary>Serializes a value in the same forms (TensorProto for a tensor).</summary>
    public static byte[] Write(LoomValue value, string name = "") => value switch
    {
        Tensor t => TensorProtoCodec.Encode(t, name).ToByteArray(),
        TensorSequence s => ToProto(s, name).ToByteArray(),
        MapSequence s => ToProto(s, name).ToByteArray(),
        MapValue m => ToProto(m, name).ToByteArray(),
        OptionalValue o => ToProto(o, name).ToByteArray(),
        _ => throw new UnsupportedException($"cannot serialize {value.Type}"),
    };

    private static SequenceProto ToProto(TensorSequence s, string name)
    {
        var p = new SequenceProto { Name = name, ElemType = (int)SequenceProto.Types.DataType.Tensor };
        foreach (var t in s.Items) p.TensorValues.Add(TensorProtoCodec.Encode(t, ""));
        return p;
    }

    private static SequenceProto ToProto(MapSequence s, string name)
    {
        var p = new SequenceProto { Name = name, ElemType = (int)SequenceProto.Types.DataType.Map };
        foreach (var m in s.Items) p.MapValues.Add(ToProto(m, ""));
        return p;
    }

    private static MapProto ToProto(MapValue m, string name)
    {
        var p = new MapProto { Name = name, KeyType = (int)m.KeyType, Values = new SequenceProto { ElemType = (int)SequenceProto.Types.DataType.Tensor } };
        if (m.KeyType == DataType.String) p.StringKeys.AddRange(m.StringKeys.Select(ByteString.CopyFromUtf8));
        else p.Keys.AddRange(m.LongKeys);
        foreach (float v in m.Values) p.Values.TensorValues.Add(TensorProtoCodec.Encode(Tensor.Scalar(v), ""));
        return p;
    }

    private static OptionalProto ToProto(OptionalValue o, string name)
    {
        var p = new OptionalProto { Name = name };
        switch (o.Value)
        {
            case Tensor t: p.ElemType = (int)OptionalProto.Types.DataType.Tensor; p.TensorValue = TensorProtoCodec.Encode(t, ""); break;
            case TensorSequence s: p.ElemType = (int)OptionalProto.Types.DataType.Sequence; p.SequenceValue = ToProto(s, ""); break;
            default: p.ElemType = o.ElementType is SequenceType ? (int)OptionalProto.Types.DataType.Sequence : (int)OptionalProto.Types.DataType.Tensor; break;
        }
        return p;
    }
}
