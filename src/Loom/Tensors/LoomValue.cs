using System.Collections.Immutable;
using Loom.IR;

namespace Loom;

/// <summary>A value that flows along a graph edge at run time: a tensor, a sequence, an optional or a map.</summary>
public abstract class LoomValue
{
    private protected LoomValue() { }

    /// <summary>The IR type this value has (for a tensor: its dtype and concrete shape).</summary>
    public abstract IrType Type { get; }
}

/// <summary>An ordered list of tensors of one dtype (ONNX <c>seq(tensor(T))</c>); immutable.</summary>
public sealed class TensorSequence : LoomValue
{
    public TensorSequence(DataType elementType, IEnumerable<Tensor> items)
    {
        ElementType = elementType;
        Items = items.ToImmutableArray();
        foreach (var t in Items)
            if (t.DataType != elementType)
                throw new InputException($"sequence of {elementType.Name()} cannot hold a {t.DataType.Name()} tensor");
    }

    public DataType ElementType { get; }
    public ImmutableArray<Tensor> Items { get; }
    public int Count => Items.Length;
    public Tensor this[int i] => Items[i];

    public override IrType Type => new SequenceType(new TensorType(ElementType, null));
}

/// <summary>An ONNX optional: either holds a value or is empty, and knows its element type either way.</summary>
public sealed class OptionalValue : LoomValue
{
    public OptionalValue(IrType elementType, LoomValue? value)
    {
        ElementType = elementType;
        Value = value;
    }

    public IrType ElementType { get; }
    public LoomValue? Value { get; }
    public bool HasValue => Value is not null;

    public override IrType Type => new OptionalType(ElementType);
}

/// <summary>
/// An ONNX map from int64 or string keys to float values (<c>map(int64|string, tensor(float))</c>, as
/// ZipMap makes); immutable, keys in the order given. Holds its own arrays, never pooled buffers.
/// </summary>
public sealed class MapValue : LoomValue
{
    public MapValue(IEnumerable<long> keys, IEnumerable<float> values) : this(DataType.Int64, keys.ToImmutableArray(), [], values) { }

    public MapValue(IEnumerable<string> keys, IEnumerable<float> values) : this(DataType.String, [], keys.ToImmutableArray(), values) { }

    private MapValue(DataType keyType, ImmutableArray<long> longKeys, ImmutableArray<string> stringKeys, IEnumerable<float> values)
    {
        KeyType = keyType;
        LongKeys = longKeys;
        StringKeys = stringKeys;
        Values = values.ToImmutableArray();
        if (Values.Length != Math.Max(longKeys.Length, stringKeys.Length))
            throw new InputException($"a map needs one value per key: {Math.Max(longKeys.Length, stringKeys.Length)} keys, {Values.Length} values");
    }

    /// <summary><see cref="DataType.Int64"/> or <see cref="DataType.String"/>.</summary>
    public DataType KeyType { get; }
    /// <summary>The keys when <see cref="KeyType"/> is int64 (else empty).</summary>
    public ImmutableArray<long> LongKeys { get; }
    /// <summary>The keys when <see cref="KeyType"/> is string (else empty).</summary>
    public ImmutableArray<string> StringKeys { get; }
    public ImmutableArray<float> Values { get; }
    public int Count => Values.Length;

    /// <summary>Key <paramref name="i"/> as text (for printing and messages).</summary>
    public string KeyText(int i) => KeyType == DataType.String ? StringKeys[i] : LongKeys[i].ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override IrType Type => ValueType(KeyType);

    /// <summary>The IR type of a map with these keys: ONNX writes the float values as an unshaped tensor type.</summary>
    public static MapType ValueType(DataType keyType) => new(keyType, new TensorType(DataType.Float, null));
}

/// <summary>An ordered list of maps of one key type (ONNX <c>seq(map(K, tensor(float)))</c>, ZipMap's output); immutable.</summary>
public sealed class MapSequence : LoomValue
{
    public MapSequence(DataType keyType, IEnumerable<MapValue> items)
    {
        KeyType = keyType;
        Items = items.ToImmutableArray();
        foreach (var m in Items)
            if (m.KeyType != keyType)
                throw new InputException($"a sequence of maps with {keyType.Name()} keys cannot hold a map with {m.KeyType.Name()} keys");
    }

    public DataType KeyType { get; }
    public ImmutableArray<MapValue> Items { get; }
    public int Count => Items.Length;
    public MapValue this[int i] => Items[i];

    public override IrType Type => new SequenceType(MapValue.ValueType(KeyType));
}
