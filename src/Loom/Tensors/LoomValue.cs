using System.Collections.Immutable;
using Loom.IR;

namespace Loom;

/// <summary>A value that flows along a graph edge at run time: a tensor, a sequence or an optional.</summary>
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
