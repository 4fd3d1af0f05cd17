using System.Linq.Expressions;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

/// <summary>
/// Ranges of int expressions known when compiling, from the counters of the counted loops around them, so that a
/// read of a fixed array (<see cref="ConstantArrayFields"/>, whose length is known) at an index proven in range
/// needs no bounds check: DCT's <c>coeff[k][j]</c> and BeamFormer's <c>real_weight[i]</c> in loops too long to
/// unroll. The JIT cannot prove these itself (the arrays are constants of the closure, their lengths unknown to it).
/// </summary>
internal sealed partial class CodeGen
{
    /// <summary>Whether proven fixed-array reads skip the bounds check (<c>LOOM_STREAM_RANGES=0</c> turns it off, for comparing).</summary>
    internal static readonly bool Ranges = Environment.GetEnvironmentVariable("LOOM_STREAM_RANGES") != "0";

    /// <summary>The values the counter of each enclosing counted loop takes in its body (inclusive bounds).</summary>
    private readonly Dictionary<VarSymbol, (long Lo, long Hi)> _ranges = [];

    /// <summary>
    /// For <c>for (i = a; i &lt; b; i += c)</c> (or <c>&lt;=</c>, or counting down with <c>&gt;</c>, <c>&gt;=</c>) with a, b, c
    /// fixed per instance and a body that never assigns i: the counter and the values it takes in the body.
    /// </summary>
    private (VarSymbol Counter, long Lo, long Hi)? CountedLoop(BLoop l)
    {
        // Work functions only: elsewhere (composite bodies) parameters are locals, not constants.
        if (!Ranges || _workBody is null || ConstCountedLoop(l) is not { } loop) return null;
        var (i, a, b, op, c) = loop;
        if (BoundWalker.Nodes(l.Body).Any(n => Assigns(n, i)) || BoundWalker.Nodes(l.Condition!).Any(n => Assigns(n, i))) return null;
        // The body sees only values that pass the test; the step's sign makes the counter move toward the bound,
        // and it cannot wrap past it (the last value before the bound plus the step is checked against int).
        return (op, c > 0) switch
        {
            (BinOp.Lt, true) when b > a && (long)b - 1 + c <= int.MaxValue => (i, a, b - 1L),
            (BinOp.Le, true) when b >= a && (long)b + c <= int.MaxValue => (i, a, b),
            (BinOp.Gt, false) when a > b && (long)b + 1 + c >= int.MinValue => (i, b + 1L, a),
            (BinOp.Ge, false) when a >= b && (long)b + c >= int.MinValue => (i, b, a),
            _ => null,
        };
    }

    /// <summary>Compiles a loop body with its counter's range known (restored after: loops nest and recurse).</summary>
    private Expression WithRange((VarSymbol Counter, long Lo, long Hi)? range, Func<Expression> body)
    {
        if (range is not { } r) return body();
        bool had = _ranges.TryGetValue(r.Counter, out var saved);
        _ranges[r.Counter] = (r.Lo, r.Hi);
        try { return body(); }
        finally
        {
            if (had) _ranges[r.Counter] = saved;
            else _ranges.Remove(r.Counter);
        }
    }

    /// <summary>The values an int expression can take here, when known: constants, loop counters, + − × of them, <c>&amp;</c> a non-negative constant.</summary>
    private (long Lo, long Hi)? RangeOf(BExpr e)
    {
        if (e.Type != SType.Int) return null;
        switch (e)
        {
            case BConst { Value: int v }: return (v, v);
            case BVar { Symbol: var s } when _analysis is null && _ranges.TryGetValue(s, out var r): return r;
            // While finding VarRanges, a local bound to a constant is one unrolled copy's counter: not its value everywhere.
            case BVar { Symbol: var s } when _analysis is not null: return _analysis.TryGetValue(s, out var a) ? a
                : s.Kind != VarKind.Local && _vars.TryGetValue(s, out var fixedValue) && fixedValue is ConstantExpression { Value: int fv } ? (fv, fv) : null;
            case BVar { Symbol: var s } when _vars.TryGetValue(s, out var bound) && bound is ConstantExpression { Value: int k }: return (k, k);
            case BVar { Symbol: var s } when VarRanges().TryGetValue(s, out var v):
                _usedVarRange = true;
                return v;
            case BBinary { Op: BinOp.And } and: 
                if (RangeOf(and.Right) is { Lo: >= 0 } rr) return (0, RangeOf(and.Left) is { Lo: >= 0 } lr ? Math.Min(lr.Hi, rr.Hi) : rr.Hi);
                if (RangeOf(and.Left) is { Lo: >= 0 } ll) return (0, ll.Hi);
                return null;
            case BBinary { Op: BinOp.Add or BinOp.Sub or BinOp.Mul } b when RangeOf(b.Left) is { } l && RangeOf(b.Right) is { } r:
                (long Lo, long Hi) x = b.Op switch
                {
                    BinOp.Add => (l.Lo + r.Lo, l.Hi + r.Hi),
                    BinOp.Sub => (l.Lo - r.Hi, l.Hi - r.Lo),
                    _ => (Math.Min(Math.Min(l.Lo * r.Lo, l.Lo * r.Hi), Math.Min(l.Hi * r.Lo, l.Hi * r.Hi)),
                          Math.Max(Math.Max(l.Lo * r.Lo, l.Lo * r.Hi), Math.Max(l.Hi * r.Lo, l.Hi * r.Hi))),
                };
                // int arithmetic wraps: a range is only true if no value can overflow (inputs here are within ±2^31,
                // so the long products are exact).
                return x.Lo >= int.MinValue && x.Hi <= int.MaxValue ? x : null;
            case var _ when IsInvariant(e) && ConstInt(e) is int c: return (c, c);
            default: return null;
        }
    }

    /// <summary>
    /// <c>a[i][j]</c> of a fixed two-dimensional array of numbers (rows of one length L) with i and j proven in
    /// range, as a read of a flat copy at <c>i·L + j</c> without bounds checks: one base address instead of a row
    /// array per i (DCT's eight coefficient rows were eight spilled registers, each read bounds-checked; the JIT's
    /// loop cloning, which removes checks of <c>a[i]</c> in an innermost counted loop, does not reach them).
    /// </summary>
    private Expression? FlatRead(BIndex ix, Expression index)
    {
        if (!Ranges || ix.Array is not BIndex { Array: var outer, Index: var rowIndex } || FixedArray(outer) is not Array rows) return null;
        if (Flat(rows) is not { } flat || RangeOf(rowIndex) is not { } ri || RangeOf(ix.Index) is not { } ci) return null;
        int len = flat.Length / rows.Length;
        if (ri.Lo < 0 || ri.Hi >= rows.Length || ci.Lo < 0 || ci.Hi >= len) return null;
        var at = Expression.Add(Expression.Multiply(Expr(rowIndex), Expression.Constant(len)), index);
        var et = flat.GetType().GetElementType()!;
        return Expression.Call(typeof(UncheckedArray).GetMethod(nameof(UncheckedArray.Load))!.MakeGenericMethod(et), Expression.Constant(flat), at);
    }

    // One flat copy per fixed array (fixed arrays never change after init; instances share nothing).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Array, Array> Flats = new();

    /// <summary>A jagged array of number rows of one length (at least one), flattened row after row; null otherwise.</summary>
    private static Array? Flat(Array rows)
    {
        if (Flats.TryGetValue(rows, out var done)) return done;
        if (!rows.GetType().IsSZArray || rows.Length == 0 || rows.GetValue(0) is not Array first || !first.GetType().IsSZArray
            || !first.GetType().GetElementType()!.IsPrimitive) return null;
        int len = first.Length;
        for (int r = 0; r < rows.Length; r++)
            if (rows.GetValue(r) is not Array row || row.GetType() != first.GetType() || row.Length != len) return null;
        if (len == 0) return null;
        var flat = Array.CreateInstance(first.GetType().GetElementType()!, rows.Length * len);
        for (int r = 0; r < rows.Length; r++) Array.Copy((Array)rows.GetValue(r)!, 0, flat, r * len, len);
        Flats.AddOrUpdate(rows, flat);
        return flat;
    }
}
