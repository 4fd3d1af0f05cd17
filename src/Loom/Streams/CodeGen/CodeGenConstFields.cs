using System.Linq.Expressions;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    /// <summary>
    /// Scalar fields that nothing assigns after init (not work, prework, nor a helper they call; a filter with
    /// message handlers has none): their value when work is compiled is their value for good, so work sees them as
    /// constants, as it sees parameters — loop bounds fold and loops unroll (FFT2's <c>i &lt; totalData</c>).
    /// </summary>
    internal static HashSet<VarSymbol> ConstantFields(StreamSymbol s)
    {
        var result = new HashSet<VarSymbol>();
        if (s.HasHandlers || s.Work is null) return result;
        foreach (var f in s.Fields)
            if (f.Type.IsScalar) result.Add(f);
        if (result.Count > 0) result.ExceptWith(Refs.AssignedRoots(s.Prework is { } pre ? [s.Work.Body, pre.Body] : [s.Work.Body]));
        return result;
    }

    /// <summary>Fields bound as constants in the code being compiled (<see cref="ConstantFields"/>).</summary>
    private HashSet<VarSymbol> _constFields = [], _constArrayFields = [];

    /// <summary>
    /// Array fields that nothing writes after init and that never leave their name (used only as the array of an
    /// index, in work, prework and the helpers they call; no handlers): their elements are fixed, so an element read
    /// at a constant index (an unrolled loop's counter) is a constant — FFT2's twiddles <c>w[i]</c>, DCT's
    /// coefficient rows <c>coeff[k]</c> — with no load and no bounds check.
    /// </summary>
    internal static HashSet<VarSymbol> ConstantArrayFields(StreamSymbol s)
    {
        var result = new HashSet<VarSymbol>();
        if (s.HasHandlers || s.Work is null) return result;
        foreach (var f in s.Fields)
            if (f.Type is ArrayType) result.Add(f);
        var code = new List<BStmt> { s.Work.Body };
        if (s.Prework is { } pre) code.Add(pre.Body);
        var seen = new HashSet<FunctionSymbol>();
        for (int i = 0; i < code.Count && result.Count > 0; i++)
        {
            var nodes = BoundWalker.Nodes(code[i]).ToList();
            var uses = new Dictionary<VarSymbol, int>();
            foreach (var v in nodes.OfType<BVar>()) uses[v.Symbol] = uses.GetValueOrDefault(v.Symbol) + 1;
            foreach (var ix in nodes.OfType<BIndex>())
                if (ix.Array is BVar { Symbol: var a }) uses[a] = uses.GetValueOrDefault(a) - 1;
            foreach (var (sym, escaping) in uses)
                if (escaping != 0) result.Remove(sym);
            foreach (var n in nodes)
                switch (n)
                {
                    case BAssign a when Refs.Root(a.Target) is { } r: result.Remove(r); break;
                    case BCompoundAssign c when Refs.Root(c.Target) is { } r: result.Remove(r); break;
                    case BIncDec d when Refs.Root(d.Target) is { } r: result.Remove(r); break;
                    case BCall c when seen.Add(c.Function): code.Add(c.Function.Body); break;
                }
        }
        return result;
    }

    /// <summary>The fixed arrays of <see cref="ConstantArrayFields"/> by field, as init left them.</summary>
    private Dictionary<VarSymbol, Array> _constArrays = [];

    /// <summary><c>a[i]</c>, a constant when <c>a</c> is a fixed array (or a fixed row of one) and <c>i</c> a constant in range.</summary>
    private Expression Index(BIndex ix)
    {
        var index = Expr(ix.Index);
        // A constant element of a fixed array folds below; any other read of a fixed 2-D array may be a flat one.
        if (!(index is ConstantExpression && FixedArray(ix.Array) is not null) && FlatRead(ix, index) is { } flat) return flat;
        if (ScalarElement(ix, index) is { } element) return element;
        _indexingArray = ix.Array is BVar;
        Expression array;
        try { array = Expr(ix.Array); }
        finally { _indexingArray = false; }
        if (index is ConstantExpression { Value: int k } && FixedArray(ix.Array) is { } a && k >= 0 && k < a.Length
            && a.GetType().GetElementType() is { } et && (et.IsPrimitive || et.IsArray) && a.GetValue(k) is { } v)
            return Expression.Constant(v, et);
        if (FieldArrayRead(ix, array, index) is { } read) return read;
        return Expression.ArrayAccess(array, index);
    }

    private Array? FixedArray(BExpr e) => e switch
    {
        BVar { Symbol: var s } when _constArrays.TryGetValue(s, out var a) => a,
        BIndex { Array: var inner, Index: var i } when FixedArray(inner) is { } outer && ConstIndex(i) is int k
            && k >= 0 && k < outer.Length => outer.GetValue(k) as Array,
        _ => null,
    };

    /// <summary>An index known without generating code for it (which may pop): a literal or a variable bound to a constant.</summary>
    private int? ConstIndex(BExpr i) => i switch
    {
        BConst { Value: int k } => k,
        BVar { Symbol: var s } when _vars.TryGetValue(s, out var e) && e is ConstantExpression { Value: int k } => k,
        _ => null,
    };
}
