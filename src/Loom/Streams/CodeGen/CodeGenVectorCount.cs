using System.Linq.Expressions;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    /// <summary>Whether counting loops over peeks become vector compares (<c>LOOM_STREAM_VECTOR=0</c> turns it off, for comparing).</summary>
    internal static readonly bool VectorCounts = Environment.GetEnvironmentVariable("LOOM_STREAM_VECTOR") != "0";
    private bool _vectorCounts;

    /// <summary>
    /// <c>for (i = a; i &lt; b; i++) if (peek(i + k) OP x) count = count + 1;</c> (or <c>count++</c>, <c>count += 1</c>,
    /// or a decrement), with a and b fixed per instance, x plain arithmetic that reads neither i nor count, and the
    /// input a fused linear buffer of int or float items: <c>count += VectorCount.Count(buf, index + a + k, b − a, x)</c>,
    /// 8 compares per instruction. The count is an int sum, so the result is the loop's, bit for bit; i ends at b.
    /// Null when the loop is not of that form.
    /// </summary>
    private Expression? CountingLoop(BLoop l)
    {
        if (!_vectorCounts || _in is not { Mask: < 0, Table: null, Queue: null } port) return null;
        if (!l.TestFirst || l.Condition is null || l.Update is null) return null;
        var (i, start) = l.Init switch
        {
            BVarDecl { Symbol: var s, Init: { } e } => (s, e),
            BExprStmt { Expr: BAssign { Target: BVar v, Value: var e } } => (v.Symbol, e),
            _ => ((VarSymbol?)null, (BExpr?)null),
        };
        if (i is null || start is null || i.Type != SType.Int || i.Kind != VarKind.Local || !IsInvariant(start)) return null;
        if (l.Condition is not BBinary { Op: BinOp.Lt or BinOp.Le, Left: BVar { Symbol: var ci }, Right: var bound } cond || ci != i || !IsInvariant(bound)) return null;
        if (!StepsByOne(l.Update, i)) return null;
        var body = Single(l.Body);
        if (body is not BIf { Else: null, Condition: BBinary { Op: BinOp.Lt or BinOp.Le or BinOp.Gt or BinOp.Ge or BinOp.Eq or BinOp.Ne } cmp } guarded) return null;
        if (CountStep(Single(guarded.Then)) is not (var countSym, var up) || countSym == i) return null;
        if (!_vars.TryGetValue(countSym, out var countVar) || countVar is not ParameterExpression count) return null;

        var (op, peek, x) = cmp.Left is BPeek pl ? (cmp.Op, pl, cmp.Right)
            : cmp.Right is BPeek pr ? (Mirror(cmp.Op), pr, cmp.Left) : (cmp.Op, (BPeek?)null, cmp.Left);
        if (peek is null || PeekOffset(peek.Index, i) is not { } offset) return null;
        var item = ClrTypes.Of(peek.Type);
        if (item != port.Item || ClrTypes.Of(cmp.OperandType) != item || (item != typeof(int) && item != typeof(float))) return null;
        if (!IsPlainArithmetic(x) || BoundWalker.Nodes(x).Any(n => n is BVar { Symbol: var s } && (s == i || s == countSym))) return null;
        if (ConstInt(start) is not int a || ConstInt(bound) is not int b) return null;
        long trips = cond.Op == BinOp.Lt ? (long)b - a : (long)b - a + 1;
        if (trips <= 0 || trips > int.MaxValue) return null;

        var init = Stmt(l.Init!);
        var compare = op switch
        {
            BinOp.Lt => typeof(VectorCount.Lt), BinOp.Le => typeof(VectorCount.Le), BinOp.Gt => typeof(VectorCount.Gt),
            BinOp.Ge => typeof(VectorCount.Ge), BinOp.Eq => typeof(VectorCount.Eq), _ => typeof(VectorCount.Ne),
        };
        var method = typeof(VectorCount).GetMethod(nameof(VectorCount.Count))!.MakeGenericMethod(item, compare);
        var first = Expression.Add(port.Index, Expression.Add(Expression.Constant(a), Expr(offset)));
        var matches = Expression.Call(method, port.Buf, first, Expression.Constant((int)trips), Expr(x));
        return Expression.Block(typeof(void), init,
            Expression.Assign(count, up ? Expression.Add(count, matches) : Expression.Subtract(count, matches)),
            Expression.Assign(_vars[i], Expression.Constant((int)(a + trips))));
    }

    private static BStmt Single(BStmt s)
    {
        while (s is BBlock { Statements: [var only] }) s = only;
        return s;
    }

    private static BinOp Mirror(BinOp op) => op switch
    {
        BinOp.Lt => BinOp.Gt, BinOp.Gt => BinOp.Lt, BinOp.Le => BinOp.Ge, BinOp.Ge => BinOp.Le, _ => op,
    };

    /// <summary><c>i++</c>, <c>++i</c>, <c>i += 1</c> or <c>i = i + 1</c>.</summary>
    private static bool StepsByOne(BStmt update, VarSymbol i) => update switch
    {
        BExprStmt { Expr: BIncDec { Target: BVar { Symbol: var u }, Increment: true } } => u == i,
        BExprStmt { Expr: BCompoundAssign { Target: BVar { Symbol: var u }, Op: BinOp.Add, Value: BConst { Value: 1 } } } => u == i,
        BExprStmt { Expr: BAssign { Target: BVar { Symbol: var u }, Value: BBinary { Op: BinOp.Add, Left: BVar { Symbol: var u2 }, Right: BConst { Value: 1 } } } } => u == i && u2 == i,
        _ => false,
    };

    /// <summary>The int local or field a statement counts by one, and whether up (<c>c = c + 1</c>, <c>c++</c>, <c>c += 1</c>, or down).</summary>
    private static (VarSymbol Count, bool Up)? CountStep(BStmt s)
    {
        if (s is not BExprStmt { Expr: var e }) return null;
        var (sym, up) = e switch
        {
            BIncDec { Target: BVar { Symbol: var c }, Increment: var inc } => (c, inc),
            BCompoundAssign { Target: BVar { Symbol: var c }, Op: BinOp.Add or BinOp.Sub, Value: BConst { Value: 1 } } ca => (c, ca.Op == BinOp.Add),
            BAssign { Target: BVar { Symbol: var c }, Value: BBinary { Op: BinOp.Add or BinOp.Sub, Left: BVar { Symbol: var c2 }, Right: BConst { Value: 1 } } b } when c == c2
                => (c, b.Op == BinOp.Add),
            _ => ((VarSymbol?)null, false),
        };
        return sym is { Type: var t, Kind: VarKind.Local or VarKind.Field } && t == SType.Int ? (sym, up) : null;
    }

    /// <summary>k when a peek's index is <c>i</c>, <c>i + k</c> or <c>k + i</c> with k fixed per instance; null otherwise.</summary>
    private BExpr? PeekOffset(BExpr index, VarSymbol i) => index switch
    {
        BVar { Symbol: var s } when s == i => new BConst(0, SType.Int, index.Span),
        BBinary { Op: BinOp.Add, Left: BVar { Symbol: var s }, Right: var k } when s == i && IsInvariant(k) => k,
        BBinary { Op: BinOp.Add, Left: var k, Right: BVar { Symbol: var s } } when s == i && IsInvariant(k) => k,
        _ => null,
    };
}
