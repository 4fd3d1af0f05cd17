using System.Collections.Immutable;
using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>
/// Symbolic values of small integer tensors through elementwise ops (Add, Div, Max, Where, Cast, Equal
/// on the output of Shape), so an exported model's <c>Reshape(x, Shape(x)[0] * 2 ...)</c> keeps its
/// symbols. A value is only propagated when its result is certain; otherwise the output has none.
/// </summary>
internal static class ElementwiseShapeValues
{
    private static bool IsShapeInteger(DataType t) => t is DataType.Int64 or DataType.Int32;

    /// <summary>Elementwise <paramref name="f"/> of inputs 0 and 1 (broadcast); null from <paramref name="f"/> means unknown.</summary>
    public static void Binary(InferenceContext ctx, Func<Dim, Dim, Dim?> f)
    {
        if (!IsShapeInteger(ctx.InputDataType(0))) return;
        if (ctx.ShapeValue(0) is not { } a || ctx.ShapeValue(1) is not { } b) return;
        if (Combine(f, a, b) is { } r) ctx.SetShapeValue(0, r);
    }

    /// <summary>A left fold of <paramref name="f"/> over every input (Max, Min).</summary>
    public static void Variadic(InferenceContext ctx, Func<Dim, Dim, Dim> f)
    {
        if (!IsShapeInteger(ctx.InputDataType(0)) || ctx.ShapeValue(0) is not { } acc) return;
        for (int i = 1; i < ctx.InputCount; i++)
        {
            if (ctx.ShapeValue(i) is not { } next || Combine((x, y) => f(x, y), acc, next) is not { } r) return;
            acc = r;
        }
        ctx.SetShapeValue(0, acc);
    }

    /// <summary>Where(cond, x, y) when the condition is known element by element.</summary>
    public static void Where(InferenceContext ctx)
    {
        if (!IsShapeInteger(ctx.InputDataType(1))) return;
        var cond = ctx.ShapeValue(0) ?? BoolConstant(ctx.ConstantInput(0));
        if (cond is not { } c || ctx.ShapeValue(1) is not { } x || ctx.ShapeValue(2) is not { } y) return;
        int n = new[] { c.Length, x.Length, y.Length }.Max();
        if (new[] { c.Length, x.Length, y.Length }.Any(len => len != 1 && len != n)) return;
        var r = new Dim[n];
        for (int i = 0; i < n; i++)
        {
            var ci = c[c.Length == 1 ? 0 : i];
            if (ci.Value is not { } known) return;
            r[i] = known != 0 ? x[x.Length == 1 ? 0 : i] : y[y.Length == 1 ? 0 : i];
        }
        ctx.SetShapeValue(0, r.ToImmutableArray());
    }

    /// <summary>Casting between integer types keeps the values (shape values fit in int32).</summary>
    public static void Cast(InferenceContext ctx, DataType to)
    {
        var from = ctx.InputDataType(0);
        if (IsShapeInteger(to) && (IsShapeInteger(from) || from == DataType.Bool) && ctx.ShapeValue(0) is { } v)
            ctx.SetShapeValue(0, v);
    }

    /// <summary>
    /// C's truncating division, which equals floor division when both sides are non-negative: exact for
    /// known values, <see cref="Dim.FloorDiv"/> for a non-negative symbolic dividend and a positive divisor.
    /// </summary>
    public static Dim? TruncatedDivide(Dim a, Dim b)
    {
        if (b.Value is not { } d || d == 0) return null;
        if (a.Value is { } n) return n / d;
        return d > 0 && IsNonNegative(a) ? Dim.FloorDiv(a, b) : null;
    }

    /// <summary>1 or 0 when equality is certain: the difference is a known number, or a size is compared with a negative number.</summary>
    public static Dim? Equal(Dim a, Dim b)
    {
        var diff = a - b;
        if (diff.Value is { } v) return v == 0 ? 1 : 0;
        if ((IsNonNegative(a) && b.Value < 0) || (IsNonNegative(b) && a.Value < 0)) return 0;
        return null;
    }

    /// <summary>
    /// True when a dim cannot be negative: a known size &gt;= 0, or an expression whose canonical text has
    /// no minus sign (a sum of products of symbols — sizes — with positive coefficients).
    /// </summary>
    private static bool IsNonNegative(Dim d) => d.Value is { } v ? v >= 0 : !d.ToString().Contains('-');

    private static ImmutableArray<Dim>? Combine(Func<Dim, Dim, Dim?> f, ImmutableArray<Dim> a, ImmutableArray<Dim> b)
    {
        int n = a.Length == b.Length ? a.Length : a.Length == 1 ? b.Length : b.Length == 1 ? a.Length : -1;
        if (n < 0) return null;
        var r = new Dim[n];
        for (int i = 0; i < n; i++)
        {
            if (f(a[a.Length == 1 ? 0 : i], b[b.Length == 1 ? 0 : i]) is not { } v) return null;
            r[i] = v;
        }
        return r.ToImmutableArray();
    }

    private static ImmutableArray<Dim>? BoolConstant(Tensor? t) =>
        t is { DataType: DataType.Bool, Rank: <= 1, Length: <= 64 }
            ? t.AsReadOnlySpan<bool>().ToArray().Select(b => b ? Dim.One : Dim.Zero).ToImmutableArray()
            : null;
}
