using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    /// <summary>LOOM_STREAM_FILLED=0 clears every fixed local array at its declaration again (for comparing).</summary>
    internal static readonly bool FilledArrays = Environment.GetEnvironmentVariable("LOOM_STREAM_FILLED") != "0";

    private HashSet<VarSymbol>? _filledArrays;

    /// <summary>
    /// Local arrays of the work body whose every element is written before it is read, so the clear at the
    /// declaration (Java's fresh zeroed array, kept storage here) can go: RadixSort's <c>ordering</c>, 10% of its
    /// time. The one shape proven is a list filled in order: the array is written only by <c>a[w] = e;</c>
    /// directly followed by <c>w = w + 1;</c> (or <c>w++</c>, <c>w += 1</c>), where <c>w</c> is an int local
    /// declared <c>= 0</c> after the array in the same block and assigned nowhere else — so elements 0 … w−1 have
    /// been written since the declaration whenever <c>w</c> can be read — and read only as <c>a[r]</c> in the body
    /// of a loop tested first on <c>r &lt; w</c> that assigns neither <c>r</c> nor <c>w</c>. A negative <c>r</c>
    /// fails either way. Anything else (another index, a read outside such a loop, the array used whole) keeps the clear.
    /// </summary>
    private HashSet<VarSymbol> FilledArraysOf()
    {
        if (_filledArrays is not null) return _filledArrays;
        _filledArrays = [];
        if (!FilledArrays || _workBody is null) return _filledArrays;
        foreach (var a in PrivateArrays())
            if (FilledInOrder.Holds(a, _workBody))
                _filledArrays.Add(a);
        return _filledArrays;
    }
}

/// <summary>Checks the filled-in-order shape of <see cref="CodeGen"/>'s <c>FilledArraysOf</c> for one local array.</summary>
internal sealed class FilledInOrder
{
    private readonly VarSymbol _array;

    private FilledInOrder(VarSymbol array) => _array = array;

    /// <summary>Whether every element of the 1-D local array <paramref name="a"/> that <paramref name="body"/> reads was written since its declaration.</summary>
    public static bool Holds(VarSymbol a, BStmt body)
    {
        if (a is not { Kind: VarKind.Local, Type: ArrayType { Rank: 1, Element: not StructType } }) return false;
        // Only ever indexed (never assigned whole, passed or aliased), and declared without an initialiser.
        var nodes = BoundWalker.Nodes(body).ToList();
        if (nodes.OfType<BVar>().Count(v => v.Symbol == a) != nodes.OfType<BIndex>().Count(ix => ix.Array is BVar v && v.Symbol == a)) return false;
        if (!nodes.OfType<BVarDecl>().Any(d => d.Symbol == a && d.Init is null)) return false;
        return new FilledInOrder(a).Check(body);
    }

    private VarSymbol? _w;
    private bool _wDeclared;
    private readonly HashSet<BStmt> _increments = [];
    private readonly HashSet<BIndex> _accepted = [];

    private bool Check(BStmt body)
    {
        if (!Walk(body, [])) return false;
        if (_w is null || !_wDeclared) return false;
        // Every use of the array is an accepted write or read, and every assignment of w an accepted increment
        // (an assignment inside a larger expression is counted too, so it cannot hide).
        if (BoundWalker.Nodes(body).OfType<BIndex>().Any(ix => ix.Array is BVar v && v.Symbol == _array && !_accepted.Contains(ix))) return false;
        return BoundWalker.Nodes(body).Count(n => n is BExpr e && AssignedVar(e) == _w) == _increments.Count;
    }

    private static VarSymbol? AssignedVar(BExpr e) => e switch
    {
        BAssign { Target: BVar v } => v.Symbol,
        BCompoundAssign { Target: BVar v } => v.Symbol,
        BIncDec { Target: BVar v } => v.Symbol,
        _ => null,
    };

    private bool IsIncrementExpr(BExpr e) => e switch
    {
        BIncDec { Increment: true } => true,
        BCompoundAssign { Op: BinOp.Add, Value: BConst { Value: 1 } } => true,
        BAssign { Value: BBinary { Op: BinOp.Add, Left: BVar l, Right: BConst { Value: 1 } } } => l.Symbol == _w,
        BAssign { Value: BBinary { Op: BinOp.Add, Left: BConst { Value: 1 }, Right: BVar r } } => r.Symbol == _w,
        _ => false,
    };

    /// <summary>Walks statements, accepting the writes and the guarded reads; false when the shape cannot hold.</summary>
    private bool Walk(BStmt s, List<VarSymbol> guards)
    {
        switch (s)
        {
            case BBlock b:
                for (int i = 0; i < b.Statements.Length; i++)
                {
                    var st = b.Statements[i];
                    if (st is BVarDecl { Symbol: var ds } && ds == _array)
                    {
                        // w must be declared = 0 later in this same block (each run of the declaration resets it).
                        for (int k = i + 1; k < b.Statements.Length; k++)
                            if (b.Statements[k] is BVarDecl { Symbol: var wd, Init: BConst { Value: 0 } } && wd.Kind == VarKind.Local && wd.Type == SType.Int)
                                _candidates.Add(wd);
                    }
                    if (st is BExprStmt { Expr: BAssign { Target: BIndex { Array: BVar av, Index: BVar wv } target, Value: var value } }
                        && av.Symbol == _array && i + 1 < b.Statements.Length && b.Statements[i + 1] is BExprStmt inc
                        && AssignedVar(inc.Expr) == wv.Symbol)
                    {
                        if (_w is null) _w = wv.Symbol;
                        if (_w != wv.Symbol) return false;
                        if (!IsIncrementExpr(inc.Expr)) return false;
                        _accepted.Add(target);
                        _increments.Add(inc);
                        if (!WalkExpr(value, guards)) return false;
                        i++;
                        continue;
                    }
                    if (!Walk(st, guards)) return false;
                }
                if (_w is not null && _candidates.Contains(_w)) _wDeclared = true;
                return true;
            case BLoop l:
            {
                if (l.Init is not null && !Walk(l.Init, guards)) return false;
                if (l.Condition is not null && !WalkExpr(l.Condition, guards)) return false;
                if (l.Update is not null && !Walk(l.Update, guards)) return false;
                var inner = guards;
                if (l.TestFirst && l.Condition is BBinary { Op: BinOp.Lt, Left: BVar r, Right: BVar w })
                {
                    var assigned = Refs.AssignedRoots([l.Body]);
                    if (!assigned.Contains(r.Symbol) && !assigned.Contains(w.Symbol))
                    {
                        inner = [.. guards, r.Symbol, w.Symbol];
                    }
                }
                return Walk(l.Body, inner);
            }
            case BIf i:
                return WalkExpr(i.Condition, guards) && Walk(i.Then, guards) && (i.Else is null || Walk(i.Else, guards));
            case BVarDecl d:
                return d.Init is null || WalkExpr(d.Init, guards);
            case BExprStmt e:
                return WalkExpr(e.Expr, guards);
            case BReturn r:
                return r.Value is null || WalkExpr(r.Value, guards);
            default:
                return true;
        }
    }

    private readonly HashSet<VarSymbol> _candidates = [];

    /// <summary>Accepts reads <c>a[r]</c> under a guard <c>r &lt; w</c> (pairs in <paramref name="guards"/>).</summary>
    private bool WalkExpr(BExpr e, List<VarSymbol> guards)
    {
        foreach (var ix in BoundWalker.Nodes(e).OfType<BIndex>())
        {
            if (ix.Array is not BVar av || av.Symbol != _array) continue;
            if (ix.Index is not BVar rv) return false;
            bool guarded = false;
            for (int g = 0; g + 1 < guards.Count; g += 2)
                if (guards[g] == rv.Symbol && guards[g + 1] == _w) guarded = true;
            if (!guarded) return false;
            _accepted.Add(ix);
        }
        return true;
    }
}
