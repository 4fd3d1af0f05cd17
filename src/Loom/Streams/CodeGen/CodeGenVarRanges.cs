using System.Linq.Expressions;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

/// <summary>
/// Ranges of int fields and locals over the whole run (not only inside a loop), and the field-array reads they
/// prove in range: the second half of <see cref="CodeGen.RangeOf"/>'s sources.
/// </summary>
internal sealed partial class CodeGen
{
    /// <summary>The stream and field boxes of the filter being compiled (for <see cref="VarRanges"/>).</summary>
    private StreamSymbol? _stream;
    private System.Runtime.CompilerServices.IStrongBox[]? _fieldBoxes;
    private Dictionary<VarSymbol, (long Lo, long Hi)>? _varRanges, _analysis;
    private bool _usedVarRange;

    /// <summary>The target of the assignment being compiled: an element written, not read (no unchecked read for it).</summary>
    private BExpr? _assignTarget;

    /// <summary>
    /// Ranges of int fields and work locals over the whole run, flow-insensitively: a variable holds its value at
    /// compile time (a field, as init left it) or 0 (a local before its first assignment), or a value some assignment
    /// in work, prework or a helper gives it; when every assigned expression has a range given the others' (a
    /// fixed point, found in a few rounds), the union bounds the variable. BeamFormer's <c>modPos = (modPos + 1)
    /// &amp; numTapsMinusOne</c> and <c>pos</c> lie in [0, 63], so its FIR's buffer reads need no checks. A compound
    /// assignment or increment gives up on its variable (a counter grows without bound).
    /// </summary>
    private Dictionary<VarSymbol, (long Lo, long Hi)> VarRanges()
    {
        if (_varRanges is not null) return _varRanges;
        _varRanges = [];
        if (!Ranges || _stream is not { Work: { } work } s || _fieldBoxes is null) return _varRanges;
        var code = new List<BStmt> { work.Body };
        if (s.Prework is { } pre) code.Add(pre.Body);
        var seen = new HashSet<FunctionSymbol>();
        var assigned = new Dictionary<VarSymbol, List<BExpr>>();
        var declared = new HashSet<VarSymbol>();
        var unknown = new HashSet<VarSymbol>();
        void Add(VarSymbol v, BExpr e) { if (!assigned.TryGetValue(v, out var l)) assigned[v] = l = []; l.Add(e); }
        for (int c = 0; c < code.Count; c++)
            foreach (var n in BoundWalker.Nodes(code[c]))
                switch (n)
                {
                    case BVarDecl { Symbol: var v, Init: var init } when v.Type == SType.Int:
                        declared.Add(v);
                        Add(v, init ?? new BConst(0, SType.Int, v.Declared));
                        break;
                    case BAssign { Target: BVar { Symbol: var v }, Value: var e } when v.Type == SType.Int: Add(v, e); break;
                    case BCompoundAssign { Target: BVar { Symbol: var v } }: unknown.Add(v); break;
                    case BIncDec { Target: BVar { Symbol: var v } }: unknown.Add(v); break;
                    case BCall call when seen.Add(call.Function): code.Add(call.Function.Body); break;
                }
        // Locals declared in the code (not a helper's parameters, which calls set), fields of a filter without handlers.
        var start = new Dictionary<VarSymbol, (long Lo, long Hi)>();
        foreach (var v in assigned.Keys)
        {
            if (unknown.Contains(v)) continue;
            if (v.Kind == VarKind.Local && declared.Contains(v)) start[v] = (0, 0);
            else if (v.Kind == VarKind.Field && !s.HasHandlers && _fieldBoxes[v.Index].Value is int now) start[v] = (now, now);
        }
        var est = new Dictionary<VarSymbol, (long Lo, long Hi)>(start);
        _analysis = est;
        try
        {
            // Each round widens a range or drops a variable; a variable still widening after 8 rounds (a counter
            // like count = count + 2) is dropped, so the rounds end.
            var widened = new Dictionary<VarSymbol, int>();
            for (bool changed = true; changed && est.Count > 0;)
            {
                changed = false;
                foreach (var v in est.Keys.ToList())
                {
                    if (!est.ContainsKey(v)) continue;
                    var (lo, hi) = est[v];
                    foreach (var e in assigned[v])
                    {
                        if (RangeOf(e) is not { } r) { est.Remove(v); changed = true; goto next; }
                        lo = Math.Min(lo, r.Lo);
                        hi = Math.Max(hi, r.Hi);
                    }
                    if ((lo, hi) == est[v]) continue;
                    changed = true;
                    if ((widened[v] = widened.GetValueOrDefault(v) + 1) <= 8) { est[v] = (lo, hi); continue; }
                    // Still widening: its range without its own (pos = (pos + 1) & 63 grows by one a round, but
                    // is within [0, 63] whatever pos is), or nothing if that has none or keeps widening too.
                    est.Remove(v);
                    (lo, hi) = start[v];
                    foreach (var e in assigned[v])
                    {
                        if (RangeOf(e) is not { } r) goto next;
                        lo = Math.Min(lo, r.Lo);
                        hi = Math.Max(hi, r.Hi);
                    }
                    if (widened[v] <= 16) est[v] = (lo, hi);
                next:;
                }
            }
            _varRanges = new(est);
            return _varRanges;
        }
        finally { _analysis = null; }
    }

    /// <summary>
    /// An element read of a field array that nothing assigns whole (its length is the one init gave it) at an index
    /// whose range rests on <see cref="VarRanges"/> and lies within it: without the bounds check. Indices bounded by
    /// loop counters alone keep their checks, which the JIT's loop cloning already removes (unchecked reads there
    /// were slower: they stop the cloning and add null checks).
    /// </summary>
    private Expression? FieldArrayRead(BIndex ix, Expression array, Expression index)
    {
        if (!Ranges || ReferenceEquals(ix, _assignTarget) || ix.Array is not BVar { Symbol: { Kind: VarKind.Field } f } || _fieldBoxes is null || _stream is null || _stream.HasHandlers) return null;
        if (_fieldBoxes[f.Index].Value is not Array a || !a.GetType().IsSZArray || !a.GetType().GetElementType()!.IsPrimitive || array.Type != a.GetType()) return null;
        if (!WholeArrayFieldsKept().Contains(f)) return null;
        _usedVarRange = false;
        if (RangeOf(ix.Index) is not { } r || !_usedVarRange || r.Lo < 0 || r.Hi >= a.Length) return null;
        return Expression.Call(typeof(UncheckedArray).GetMethod(nameof(UncheckedArray.Load))!.MakeGenericMethod(a.GetType().GetElementType()!), array, index);
    }

    private HashSet<VarSymbol>? _keptArrays;

    /// <summary>Array fields that work, prework and the helpers they call never assign whole (only their elements).</summary>
    private HashSet<VarSymbol> WholeArrayFieldsKept()
    {
        if (_keptArrays is not null) return _keptArrays;
        _keptArrays = [.. _stream!.Fields.Where(f => f.Type is ArrayType)];
        var code = new List<BStmt> { _stream.Work!.Body };
        if (_stream.Prework is { } pre) code.Add(pre.Body);
        var seen = new HashSet<FunctionSymbol>();
        for (int c = 0; c < code.Count; c++)
            foreach (var n in BoundWalker.Nodes(code[c]))
                switch (n)
                {
                    case BAssign { Target: BVar { Symbol: var v } }: _keptArrays.Remove(v); break;
                    case BCall call when seen.Add(call.Function): code.Add(call.Function.Body); break;
                }
        return _keptArrays;
    }
}
