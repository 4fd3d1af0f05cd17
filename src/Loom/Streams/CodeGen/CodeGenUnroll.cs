using System.Linq.Expressions;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    /// <summary>Unrolling is for work functions only (set with the hoisting of local arrays).</summary>
    private bool _unroll;

    /// <summary>Most iterations, and most bound nodes in all copies of the body, of a loop unrolled completely.</summary>
    private const int MaxUnrollTrips = 32, MaxUnrollNodes = 480;

    /// <summary>
    /// <c>for (i = a; i &lt; b; i += c)</c> with a, b, c fixed per instance (parameters, globals, constants), a
    /// short trip count and a body that neither assigns i nor breaks out, as one copy of the body per iteration
    /// with i a constant in each: <c>peek(i)</c> becomes a constant offset from the firing's index, array indices
    /// fold, and the loop's counting and branching go (what the MIT compiler's <c>-unroll</c> does before gcc).
    /// Locals declared in the body are shared by the copies (each copy declares, so initialises, them again).
    /// </summary>
    private Expression? Unrolled(BLoop l)
    {
        if (!_unroll || !l.TestFirst || l.Condition is null || l.Update is null) return null;
        VarSymbol? i;
        BExpr? start;
        switch (l.Init)
        {
            case BVarDecl { Symbol: var s, Init: { } e }: i = s; start = e; break;
            case BExprStmt { Expr: BAssign { Target: BVar v, Value: var e } }: i = v.Symbol; start = e; break;
            default: return null;
        }
        if (i.Type != SType.Int || i.Kind != VarKind.Local || !IsInvariant(start)) return null;
        if (l.Condition is not BBinary { Left: BVar { Symbol: var ci }, Right: var bound, Op: var op } || ci != i || !IsInvariant(bound)) return null;
        BExpr? step = l.Update switch
        {
            BExprStmt { Expr: BIncDec { Target: BVar { Symbol: var u }, Increment: var inc } } when u == i => new BConst(inc ? 1 : -1, SType.Int, l.Span),
            BExprStmt { Expr: BCompoundAssign { Target: BVar { Symbol: var u }, Op: BinOp.Add, Value: var by } } when u == i => by,
            BExprStmt { Expr: BAssign { Target: BVar { Symbol: var u }, Value: BBinary { Op: BinOp.Add, Left: BVar { Symbol: var u2 }, Right: var by2 } } }
                when u == i && u2 == i => by2,
            _ => null,
        };
        if (step is null || !IsInvariant(step)) return null;
        var body = BoundWalker.Nodes(l.Body).ToList();
        if (body.Any(n => n is BBreak or BContinue or BReturn or BAdd or BBodyOrLoop or BSplitJoin or BEnqueue
            || n is BVarDecl { Symbol.Type: ArrayType } || n is BLoop
            || (n is BAssign { Target: BVar { Symbol: var t } } && t == i)
            || (n is BCompoundAssign { Target: BVar { Symbol: var t2 } } && t2 == i)
            || (n is BIncDec { Target: BVar { Symbol: var t3 } } && t3 == i))) return null;
        if (ConstInt(start) is not int a || ConstInt(bound) is not int b || ConstInt(step) is not int c || c == 0) return null;
        long trips = (op, c > 0) switch
        {
            (BinOp.Lt, true) => b > a ? ((long)b - a + c - 1) / c : 0,
            (BinOp.Le, true) => b >= a ? ((long)b - a) / c + 1 : 0,
            (BinOp.Gt, false) => a > b ? ((long)a - b - c - 1) / -c : 0,
            (BinOp.Ge, false) => a >= b ? ((long)a - b) / -c + 1 : 0,
            _ => -1,
        };
        if (trips < 0 || trips > MaxUnrollTrips || trips * body.Count > MaxUnrollNodes) return null;
        // The counter's final value stays observable after the loop (a variable declared before it).
        long last = a + trips * c;
        if (last is > int.MaxValue or < int.MinValue) return null;

        var parts = new List<Expression> { Stmt(l.Init!) };
        var counter = _vars[i];
        if (!_unrolling && trips > 0)
        {
            var values = Enumerable.Range(0, (int)trips).Select(k => (Expression)Expression.Constant((int)(a + k * c))).ToList();
            if (Accumulated(i, l.Body, parts[0], values, Expression.Assign(counter, Expression.Constant((int)last))) is { } acc) return acc;
        }
        _sharedDecls ??= [];
        bool outer = !_unrolling;
        _unrolling = true;
        try
        {
            for (long k = 0; k < trips; k++)
            {
                _vars[i] = Expression.Constant((int)(a + k * c));
                parts.Add(Stmt(l.Body));
            }
        }
        finally
        {
            _vars[i] = counter;
            if (outer)
            {
                _unrolling = false;
                _sharedDecls.Clear();
            }
        }
        parts.Add(Expression.Assign(counter, Expression.Constant((int)last)));
        return Expression.Block(typeof(void), parts);
    }

    // Locals declared inside an unrolled body: one per symbol, shared by the copies.
    private Dictionary<VarSymbol, ParameterExpression>? _sharedDecls;
    private bool _unrolling;

    /// <summary>The local for a declaration: a new one, or inside an unrolled body the one its first copy made.</summary>
    private ParameterExpression DeclLocal(VarSymbol sym)
    {
        if (_unrolling && _sharedDecls!.TryGetValue(sym, out var shared)) return shared;
        var local = NewLocal(ClrTypes.Of(sym.Type), sym.Name);
        if (_unrolling) _sharedDecls![sym] = local;
        return local;
    }

    /// <summary>The value of an invariant int expression (parameters and globals are constants here), or null.</summary>
    private int? ConstInt(BExpr e)
    {
        if (e is BConst { Value: int v }) return v;
        var x = Expr(e);
        if (x is ConstantExpression { Value: int cv }) return cv;
        if (x.Type != typeof(int)) return null;
        try { return Expression.Lambda<Func<int>>(x).Compile(preferInterpretation: true)(); }
        catch (ArithmeticException) { return null; }
    }
}
