namespace Loom.IR;

/// <summary>The type of a value in the IR: a tensor, a sequence, an optional or a map. Immutable, compared structurally.</summary>
public abstract class IrType : IEquatable<IrType>
{
    private protected IrType() { }

    public abstract bool Equals(IrType? other);
    public override bool Equals(object? obj) => obj is IrType t && Equals(t);
    public override int GetHashCode() => ToString()!.GetHashCode();
}

/// <summary>A tensor of one dtype; <see cref="Shape"/> is null when even the rank is unknown.</summary>
public sealed class TensorType(DataType elementType, Shape? shape) : IrType
{
    public DataType ElementType { get; } = elementType;
    public Shape? Shape { get; } = shape;

    public int? Rank => Shape?.Rank;

    public TensorType WithShape(Shape? shape) => Equals(Shape, shape) ? this : new TensorType(ElementType, shape);

    public override bool Equals(IrType? other) =>
        other is TensorType t && t.ElementType == ElementType && Equals(t.Shape, Shape);

    public override string ToString() => ElementType.Name() + (Shape?.ToString() ?? "[*]");
}

public sealed class SequenceType(IrType element) : IrType
{
    public IrType Element { get; } = element;
    public override bool Equals(IrType? other) => other is SequenceType s && s.Element.Equals(Element);
    public override string ToString() => $"seq<{Element}>";
}

public sealed class OptionalType(IrType element) : IrType
{
    public IrType Element { get; } = element;
    public override bool Equals(IrType? other) => other is OptionalType s && s.Element.Equals(Element);
    public override string ToString() => $"optional<{Element}>";
}

public sealed class MapType(DataType key, IrType value) : IrType
{
    public DataType Key { get; } = key;
    public IrType Value { get; } = value;
    public override bool Equals(IrType? other) => other is MapType m && m.Key == Key && m.Value.Equals(Value);
    public override string ToString() => $"map<{Key.Name()},{Value}>";
}
