using System.Collections.Immutable;

namespace Loom.IR;

/// <summary>A tensor shape of known rank whose dims may be symbolic. Immutable, compared structurally.</summary>
public sealed class Shape : IEquatable<Shape>
{
    public Shape(ImmutableArray<Dim> dims) => Dims = dims;
    public Shape(IEnumerable<Dim> dims) : this(dims.ToImmutableArray()) { }

    public ImmutableArray<Dim> Dims { get; }
    public int Rank => Dims.Length;
    public Dim this[int i] => Dims[i];

    public static readonly Shape Scalar = new(ImmutableArray<Dim>.Empty);

    public static Shape Of(params ReadOnlySpan<int> dims)
    {
        var b = ImmutableArray.CreateBuilder<Dim>(dims.Length);
        foreach (var d in dims) b.Add(Dim.Of(d));
        return new Shape(b.MoveToImmutable());
    }

    public static Shape Of(params ReadOnlySpan<long> dims)
    {
        var b = ImmutableArray.CreateBuilder<Dim>(dims.Length);
        foreach (var d in dims) b.Add(Dim.Of(d));
        return new Shape(b.MoveToImmutable());
    }

    /// <summary>Parses <c>[batch,3,h*2]</c> (brackets optional).</summary>
    public static Shape Parse(string text)
    {
        var t = text.Trim().TrimStart('[').TrimEnd(']').Trim();
        if (t.Length == 0) return Scalar;
        return new Shape(SplitTopLevel(t).Select(Dim.Parse));
    }

    private static IEnumerable<string> SplitTopLevel(string s)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '(') depth++;
            else if (s[i] == ')') depth--;
            else if (s[i] == ',' && depth == 0) { yield return s[start..i]; start = i + 1; }
        }
        yield return s[start..];
    }

    /// <summary>True when every dim is a known number.</summary>
    public bool IsKnown => Dims.All(d => d.IsKnown);

    /// <summary>The concrete dims, or null if any is symbolic.</summary>
    public int[]? ToKnown()
    {
        var r = new int[Rank];
        for (int i = 0; i < Rank; i++)
        {
            if (Dims[i].Value is not { } v || v < 0 || v > int.MaxValue) return null;
            r[i] = (int)v;
        }
        return r;
    }

    /// <summary>Number of elements as a dim expression.</summary>
    public Dim Size() => Dims.Aggregate(Dim.One, (a, d) => a * d);

    public Shape Substitute(Func<string, Dim?> map)
    {
        var dims = Dims.Select(d => d.Substitute(map)).ToImmutableArray();
        return dims.SequenceEqual(Dims) ? this : new Shape(dims);
    }

    public bool Equals(Shape? other) => other is not null && Dims.SequenceEqual(other.Dims);
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    public override int GetHashCode() => Dims.Aggregate(Rank, (h, d) => HashCode.Combine(h, d));

    public override string ToString() => "[" + string.Join(",", Dims) + "]";
}
