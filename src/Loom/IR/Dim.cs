using System.Collections.Immutable;
using System.Text;

namespace Loom.IR;

/// <summary>
/// One dimension of a shape: a known size (<c>3</c>), a named symbol (<c>batch</c>) or an integer
/// expression over symbols (<c>seq*2</c>, <c>(h-3)/2+1</c>). Immutable and kept in a canonical form
/// (a polynomial over symbols and opaque floor-div/mod/max/min atoms), so two dims are equal exactly
/// when their canonical texts are equal.
/// </summary>
public sealed class Dim : IEquatable<Dim>
{
    private readonly ImmutableArray<Term> _terms; // non-constant monomials, sorted by key, non-zero coefficients
    private readonly string _text;

    private Dim(long constant, ImmutableArray<Term> terms)
    {
        Constant = constant;
        _terms = terms;
        _text = Print();
    }

    /// <summary>The constant part of the polynomial (the whole value when <see cref="IsKnown"/>).</summary>
    public long Constant { get; }

    public bool IsKnown => _terms.IsEmpty;

    /// <summary>The size if the dim is a known number, else null.</summary>
    public long? Value => IsKnown ? Constant : null;

    /// <summary>The symbol's name if this dim is exactly one symbol.</summary>
    public string? SymbolName =>
        Constant == 0 && _terms.Length == 1 && _terms[0].Coeff == 1 && _terms[0].Factors.Length == 1
        && _terms[0].Factors[0] is SymbolAtom s ? s.Name : null;

    public static Dim Of(long value) => value switch
    {
        0 => Zero, 1 => One, _ => new Dim(value, ImmutableArray<Term>.Empty),
    };

    public static readonly Dim Zero = new(0, ImmutableArray<Term>.Empty);
    public static readonly Dim One = new(1, ImmutableArray<Term>.Empty);

    public static Dim Symbol(string name) => FromAtom(new SymbolAtom(name));

    public static implicit operator Dim(long value) => Of(value);

    private static Dim FromAtom(DimAtom atom) => new(0, ImmutableArray.Create(new Term(1, ImmutableArray.Create(atom))));

    /// <summary>Every symbol the dim mentions.</summary>
    public IEnumerable<string> Symbols => _terms.SelectMany(t => t.Factors).SelectMany(f => f.Symbols).Distinct();

    // ---- arithmetic -------------------------------------------------------------------------

    public static Dim operator +(Dim a, Dim b)
    {
        if (a.IsKnown && b.IsKnown) return Of(a.Constant + b.Constant);
        return Normalize(a.Constant + b.Constant, a._terms.Concat(b._terms));
    }

    public static Dim operator -(Dim a) => new(-a.Constant, a._terms.Select(t => t with { Coeff = -t.Coeff }).ToImmutableArray());

    public static Dim operator -(Dim a, Dim b) => a + -b;

    public static Dim operator *(Dim a, Dim b)
    {
        if (a.IsKnown && b.IsKnown) return Of(a.Constant * b.Constant);
        var terms = new List<Term>();
        var aTerms = a._terms.Add(new Term(a.Constant, ImmutableArray<DimAtom>.Empty));
        var bTerms = b._terms.Add(new Term(b.Constant, ImmutableArray<DimAtom>.Empty));
        long constant = 0;
        foreach (var x in aTerms)
            foreach (var y in bTerms)
            {
                long c = x.Coeff * y.Coeff;
                if (c == 0) continue;
                if (x.Factors.IsEmpty && y.Factors.IsEmpty) { constant += c; continue; }
                var f = x.Factors.AddRange(y.Factors).Sort(AtomOrder.Instance);
                terms.Add(new Term(c, f));
            }
        return Normalize(constant, terms);
    }

    /// <summary>Floor division, as shape formulas use it (<c>(h-3)/2</c>).</summary>
    public static Dim FloorDiv(Dim a, Dim b)
    {
        if (b.IsKnown)
        {
            long c = b.Constant;
            if (c == 0) throw new ShapeException($"dimension expression {a} divided by zero");
            if (c == 1) return a;
            if (a.IsKnown) return Of(FloorDivInt(a.Constant, c));
            if (c > 0)
            {
                // floor((c*P + R)/c) = P + floor(R/c) for integer-valued P: pull out the divisible part.
                var (quotient, rest) = SplitDivisible(a, c);
                if (rest.IsKnown) return quotient + Of(FloorDivInt(rest.Constant, c));
                return quotient + FromAtom(new FloorDivAtom(rest, b));
            }
        }
        if (a.Equals(b)) return One;
        return FromAtom(new FloorDivAtom(a, b));
    }

    /// <summary>Ceiling division: <c>ceil(a/b)</c>.</summary>
    public static Dim CeilDiv(Dim a, Dim b) => -FloorDiv(-a, b);

    public static Dim Mod(Dim a, Dim b)
    {
        if (b.IsKnown)
        {
            long c = b.Constant;
            if (c == 0) throw new ShapeException($"dimension expression {a} modulo zero");
            if (a.IsKnown) return Of(a.Constant - FloorDivInt(a.Constant, c) * c);
            if (c > 0)
            {
                var (_, rest) = SplitDivisible(a, c);
                if (rest.IsKnown) return Of(rest.Constant - FloorDivInt(rest.Constant, c) * c);
                return FromAtom(new ModAtom(rest, b));
            }
        }
        return FromAtom(new ModAtom(a, b));
    }

    public static Dim Max(Dim a, Dim b) => MinMax(a, b, isMax: true);
    public static Dim Min(Dim a, Dim b) => MinMax(a, b, isMax: false);

    private static Dim MinMax(Dim a, Dim b, bool isMax)
    {
        var diff = a - b;
        if (diff.IsKnown) return (diff.Constant >= 0) == isMax ? a : b;
        if (string.CompareOrdinal(a._text, b._text) > 0) (a, b) = (b, a);
        return FromAtom(new MinMaxAtom(a, b, isMax));
    }

    private static long FloorDivInt(long a, long b)
    {
        long q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
        return q;
    }

    private static (Dim Quotient, Dim Remainder) SplitDivisible(Dim a, long c)
    {
        var q = new List<Term>();
        var r = new List<Term>();
        foreach (var t in a._terms)
            if (t.Coeff % c == 0) q.Add(t with { Coeff = t.Coeff / c }); else r.Add(t);
        long qc = FloorDivInt(a.Constant, c), rc = a.Constant - qc * c;
        if (r.Count > 0) { qc = 0; rc = a.Constant; } // keep the constant with the symbolic remainder
        return (Normalize(qc, q), Normalize(rc, r));
    }

    private static Dim Normalize(long constant, IEnumerable<Term> terms)
    {
        var merged = new SortedDictionary<string, Term>(StringComparer.Ordinal);
        foreach (var t in terms)
        {
            if (t.Coeff == 0) continue;
            if (t.Factors.IsEmpty) { constant += t.Coeff; continue; }
            merged[t.Key] = merged.TryGetValue(t.Key, out var old) ? old with { Coeff = old.Coeff + t.Coeff } : t;
        }
        var list = merged.Values.Where(t => t.Coeff != 0).ToImmutableArray();
        return list.IsEmpty ? Of(constant) : new Dim(constant, list);
    }

    // ---- evaluation -------------------------------------------------------------------------

    /// <summary>The value under the given symbol bindings, or null if a symbol is unbound.</summary>
    public long? Evaluate(Func<string, long?> binding)
    {
        long sum = Constant;
        foreach (var t in _terms)
        {
            long p = t.Coeff;
            foreach (var f in t.Factors)
            {
                var v = f.Evaluate(binding);
                if (v is null) return null;
                p *= v.Value;
            }
            sum += p;
        }
        return sum;
    }

    public long? Evaluate(IReadOnlyDictionary<string, long> bindings) =>
        Evaluate(name => bindings.TryGetValue(name, out var v) ? v : null);

    /// <summary>Replaces symbols by dims (for example to bind <c>batch=8</c>); unmapped symbols stay.</summary>
    public Dim Substitute(Func<string, Dim?> map)
    {
        if (IsKnown) return this;
        Dim sum = Of(Constant);
        foreach (var t in _terms)
        {
            Dim p = Of(t.Coeff);
            foreach (var f in t.Factors) p *= f.Substitute(map);
            sum += p;
        }
        return sum;
    }

    // ---- equality and text ------------------------------------------------------------------

    public bool Equals(Dim? other) => other is not null && _text == other._text;
    public override bool Equals(object? obj) => obj is Dim d && Equals(d);
    public override int GetHashCode() => _text.GetHashCode();
    public static bool operator ==(Dim? a, Dim? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(Dim? a, Dim? b) => !(a == b);

    public override string ToString() => _text;

    /// <summary>True if printing this dim inside a product or quotient needs parentheses.</summary>
    internal bool IsCompound => _terms.Length + (Constant != 0 ? 1 : 0) > 1 || (_terms.Length == 1 && (_terms[0].Coeff != 1 || _terms[0].Factors.Length > 1)) || (IsKnown && Constant < 0);

    private string Print()
    {
        if (_terms.IsEmpty) return Constant.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        foreach (var t in _terms)
        {
            long c = t.Coeff;
            if (sb.Length > 0) sb.Append(c < 0 ? "-" : "+");
            else if (c < 0) sb.Append('-');
            sb.Append(t.Key);
            if (Math.Abs(c) != 1) sb.Append('*').Append(Math.Abs(c));
        }
        if (Constant != 0) sb.Append(Constant < 0 ? "-" : "+").Append(Math.Abs(Constant));
        return sb.ToString();
    }

    /// <summary>
    /// Parses the text form (<c>batch</c>, <c>seq*2</c>, <c>(h-3)/2+1</c>, <c>max(a,b)</c>, <c>a%4</c>).
    /// An ONNX <c>dim_param</c> is a plain symbol name and is not parsed: use <see cref="Symbol"/>.
    /// </summary>
    public static Dim Parse(string text) => new DimParser(text).ParseAll();

    private sealed record Term(long Coeff, ImmutableArray<DimAtom> Factors)
    {
        public string Key { get; } = string.Join("*", Factors.Select(f => f.Text));
    }

    private sealed class AtomOrder : IComparer<DimAtom>
    {
        public static readonly AtomOrder Instance = new();
        public int Compare(DimAtom? x, DimAtom? y) => string.CompareOrdinal(x!.Text, y!.Text);
    }
}

/// <summary>An indivisible factor of a <see cref="Dim"/> polynomial.</summary>
internal abstract class DimAtom
{
    public abstract string Text { get; }
    public abstract IEnumerable<string> Symbols { get; }
    public abstract long? Evaluate(Func<string, long?> binding);
    public abstract Dim Substitute(Func<string, Dim?> map);

    protected static string Wrap(Dim d) => d.IsCompound ? "(" + d + ")" : d.ToString();
}

internal sealed class SymbolAtom(string name) : DimAtom
{
    public string Name { get; } = name;
    public override string Text { get; } = IsPlain(name) ? name : "`" + name + "`";
    public override IEnumerable<string> Symbols => [Name];
    public override long? Evaluate(Func<string, long?> binding) => binding(Name);
    public override Dim Substitute(Func<string, Dim?> map) => map(Name) ?? Dim.Symbol(Name);

    private static bool IsPlain(string s) =>
        s.Length > 0 && !char.IsDigit(s[0]) && s.All(c => char.IsLetterOrDigit(c) || c is '_' or '.' or ':') && s is not ("max" or "min");
}

internal sealed class FloorDivAtom(Dim num, Dim den) : DimAtom
{
    public override string Text { get; } = Wrap(num) + "/" + Wrap(den);
    public override IEnumerable<string> Symbols => num.Symbols.Concat(den.Symbols);
    public override long? Evaluate(Func<string, long?> binding)
    {
        var a = num.Evaluate(binding); var b = den.Evaluate(binding);
        return a is null || b is null || b == 0 ? null : Dim.FloorDiv(a.Value, b.Value).Value;
    }
    public override Dim Substitute(Func<string, Dim?> map) => Dim.FloorDiv(num.Substitute(map), den.Substitute(map));
}

internal sealed class ModAtom(Dim num, Dim den) : DimAtom
{
    public override string Text { get; } = Wrap(num) + "%" + Wrap(den);
    public override IEnumerable<string> Symbols => num.Symbols.Concat(den.Symbols);
    public override long? Evaluate(Func<string, long?> binding)
    {
        var a = num.Evaluate(binding); var b = den.Evaluate(binding);
        return a is null || b is null || b == 0 ? null : Dim.Mod(a.Value, b.Value).Value;
    }
    public override Dim Substitute(Func<string, Dim?> map) => Dim.Mod(num.Substitute(map), den.Substitute(map));
}

internal sealed class MinMaxAtom(Dim a, Dim b, bool isMax) : DimAtom
{
    public override string Text { get; } = (isMax ? "max(" : "min(") + a + "," + b + ")";
    public override IEnumerable<string> Symbols => a.Symbols.Concat(b.Symbols);
    public override long? Evaluate(Func<string, long?> binding)
    {
        var x = a.Evaluate(binding); var y = b.Evaluate(binding);
        return x is null || y is null ? null : isMax ? Math.Max(x.Value, y.Value) : Math.Min(x.Value, y.Value);
    }
    public override Dim Substitute(Func<string, Dim?> map) =>
        isMax ? Dim.Max(a.Substitute(map), b.Substitute(map)) : Dim.Min(a.Substitute(map), b.Substitute(map));
}
