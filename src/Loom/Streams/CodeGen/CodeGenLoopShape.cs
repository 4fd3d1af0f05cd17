using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    /// <summary>
    /// The shape both loop unrolling and range proofs need: <c>for (i = a; i op b; i += c)</c> (or <c>i++</c>,
    /// <c>i--</c>, <c>i = i + c</c>) over an int local, with a, b and c constant for this instance. Whether the body
    /// assigns i is each caller's check (unrolling also refuses breaks and nested streams).
    /// </summary>
    private (VarSymbol Counter, int Start, int Bound, BinOp Op, int Step)? ConstCountedLoop(BLoop l)
    {
        if (!l.TestFirst || l.Condition is null || l.Update is null) return null;
        VarSymbol i;
        BExpr start;
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
        if (ConstInt(start) is not int a || ConstInt(bound) is not int b || ConstInt(step) is not int c || c == 0) return null;
        return (i, a, b, op, c);
    }

    /// <summary>Whether bound node <paramref name="n"/> assigns the local <paramref name="i"/>.</summary>
    private static bool Assigns(object n, VarSymbol i) =>
        (n is BAssign { Target: BVar { Symbol: var t } } && t == i)
        || (n is BCompoundAssign { Target: BVar { Symbol: var t2 } } && t2 == i)
        || (n is BIncDec { Target: BVar { Symbol: var t3 } } && t3 == i);
}
