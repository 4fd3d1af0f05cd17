using System.Collections.Immutable;

namespace Loom.Streams.Semantics;

/// <summary>
/// A StreamIt type. Primitives are singletons; arrays carry their element type and rank (sizes belong to
/// each declaration, as they may depend on stream parameters); structs carry their fields. <c>complex</c> is
/// the built-in struct of two floats <c>real</c> and <c>imag</c>.
/// </summary>
public abstract class SType
{
    public abstract string Name { get; }
    public override string ToString() => Name;

    public static readonly PrimType Int = new("int");
    public static readonly PrimType Float = new("float");
    public static readonly PrimType Double = new("double");
    public static readonly PrimType Boolean = new("boolean");
    /// <summary>A 0/1 value stored as an int; it converts to and from int freely, as in StreamIt's C back end.</summary>
    public static readonly PrimType Bit = new("bit");
    public static readonly PrimType Void = new("void");
    public static readonly PrimType String = new("string");
    public static readonly StructType Complex = new("complex", [("real", Float), ("imag", Float)]);

    public bool IsIntLike => this == Int || this == Bit;
    public bool IsReal => this == Float || this == Double;
    public bool IsNumeric => IsIntLike || IsReal;
    public bool IsScalar => this is PrimType && this != Void && this != String;

    /// <summary>Scalar leaves in order (a struct flattened, nested structs included); a scalar is its own leaf.</summary>
    public virtual IReadOnlyList<(string Path, PrimType Type)> Leaves => this is PrimType p ? [("", p)] : [];
}

public sealed class PrimType(string name) : SType
{
    public override string Name => name;
}

public sealed class ArrayType(SType element, int rank) : SType
{
    public SType Element { get; } = element;
    public int Rank { get; } = rank;
    public override string Name => Element.Name + string.Concat(Enumerable.Repeat("[]", Rank));
    public override bool Equals(object? obj) => obj is ArrayType a && a.Rank == Rank && a.Element.Equals(Element);
    public override int GetHashCode() => HashCode.Combine(Element, Rank);

    /// <summary>The type after indexing once.</summary>
    public SType ElementAfterIndex => Rank == 1 ? Element : new ArrayType(Element, Rank - 1);
}

public sealed class StructType : SType
{
    private readonly string _name;
    private IReadOnlyList<(string, PrimType)>? _leaves;

    public StructType(string name, ImmutableArray<(string Name, SType Type)> fields)
    {
        _name = name;
        Fields = fields;
    }

    public override string Name => _name;
    public ImmutableArray<(string Name, SType Type)> Fields { get; internal set; }

    public int FieldIndex(string field)
    {
        for (int i = 0; i < Fields.Length; i++) if (Fields[i].Name == field) return i;
        return -1;
    }

    public override IReadOnlyList<(string Path, PrimType Type)> Leaves => _leaves ??= ComputeLeaves();

    private List<(string, PrimType)> ComputeLeaves()
    {
        var list = new List<(string, PrimType)>();
        foreach (var (n, t) in Fields)
        {
            if (t is PrimType p) list.Add((n, p));
            else if (t is StructType s) list.AddRange(s.Leaves.Select(l => (n + "." + l.Path, l.Type)));
            else throw new StreamException($"struct {_name}: field {n} of type {t} is not supported (struct fields must be scalars or structs)");
        }
        return list;
    }

    /// <summary>The index of the first leaf of field <paramref name="fieldIndex"/>.</summary>
    public int LeafOffset(int fieldIndex)
    {
        int off = 0;
        for (int i = 0; i < fieldIndex; i++) off += Fields[i].Type is StructType s ? s.Leaves.Count : 1;
        return off;
    }
}

/// <summary><c>portal&lt;Target&gt;</c>: a handle for sending teleport messages to filters of type Target.</summary>
public sealed class PortalType(string target) : SType
{
    public string Target { get; } = target;
    public override string Name => $"portal<{Target}>";
    public override bool Equals(object? obj) => obj is PortalType p && p.Target == Target;
    public override int GetHashCode() => Target.GetHashCode();
}

public static class TypeRules
{
    /// <summary>The type both operands of an arithmetic operator convert to (Java's binary numeric promotion), or null.</summary>
    public static SType? Promote(SType a, SType b)
    {
        if (a == SType.Complex || b == SType.Complex)
            return (a == SType.Complex || a.IsNumeric) && (b == SType.Complex || b.IsNumeric) ? SType.Complex : null;
        if (!a.IsNumeric || !b.IsNumeric) return null;
        if (a == SType.Double || b == SType.Double) return SType.Double;
        if (a == SType.Float || b == SType.Float) return SType.Float;
        return SType.Int;
    }

    /// <summary>Can a value of type <paramref name="from"/> be assigned to <paramref name="to"/> without a cast?</summary>
    public static bool IsAssignable(SType from, SType to)
    {
        if (from.Equals(to)) return true;
        if (to.IsIntLike && from.IsIntLike) return true;
        if (to == SType.Float && (from.IsIntLike || from == SType.Double)) return true; // literals are float, but a double may flow into a float as in StreamIt's C
        if (to == SType.Double && (from.IsIntLike || from == SType.Float)) return true;
        if (to == SType.Complex && from.IsNumeric) return true;
        return false;
    }

    /// <summary>Is an explicit cast from <paramref name="from"/> to <paramref name="to"/> allowed?</summary>
    public static bool IsCastable(SType from, SType to)
    {
        if (IsAssignable(from, to)) return true;
        if (from.IsNumeric && to.IsNumeric) return true;
        if (from == SType.Boolean && to.IsIntLike) return true;
        return false;
    }
}
