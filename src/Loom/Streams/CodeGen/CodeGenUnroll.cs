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
        if (!_unroll || ConstCountedLoop(l) is not { } loop) return null;
        var (i, a, b, op, c) = loop;
        var body = BoundWalker.Nodes(l.Body).ToList();
        if (body.Any(n => n is BBreak or BContinue or BReturn or BAdd or BBodyOrLoop or BSplitJoin or BEnqueue
            || n is BVarDecl { Symbol.Type: ArrayType } || n is BLoop || Assigns(n, i))) return null;
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
