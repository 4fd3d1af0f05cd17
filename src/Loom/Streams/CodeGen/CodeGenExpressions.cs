using System.Linq.Expressions;
using Loom.Streams.Execution;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    private Expression Expr(BExpr e)
    {
        switch (e)
        {
            case BHole h: return h.Generated;
            case BConst c: return Const(c);
            case BVar v: return Var(v.Symbol, v.Span);
            case BBinary b: return Binary(b);
            case BUnary u: return Unary(u);
            case BConvert c: return Convert(Expr(c.Operand), c.Operand.Type, c.Type);
            case BAssign a: return Assign(a.Target, CopyIfStruct(Expr(a.Value)));
            case BCompoundAssign ca: return CompoundAssign(ca);
            case BIncDec i: return IncDec(i);
            case BConditional c when BranchFree(c) is { } select: return select;
            case BConditional c: return Expression.Condition(Expr(c.Condition), Expr(c.WhenTrue), Expr(c.WhenFalse), ClrTypes.Of(c.Type));
            case BIndex ix: return Index(ix);
            case BFieldAccess fa: return ReadField(fa);
            case BCall call: return Call(call);
            case BIntrinsic i: return Intrinsic(i);
            case BPop p: return Pop(p);
            case BPeek p: return Peek(p);
            case BPush p: return Push(p);
            case BPrint p: return Print(p);
            case BArrayInit ai: return ArrayInit(ai);
            case BMessage m: return Messages.Send(this, m);
            default: throw Unsupported(e.Span, e.GetType().Name);
        }
    }

    private static Expression Const(BConst c) => c.Value switch
    {
        int i when c.Type.IsIntLike => Expression.Constant(i),
        float f => Expression.Constant(f),
        double d => Expression.Constant(d),
        bool b => Expression.Constant(b),
        string s => Expression.Constant(s),
        _ => Expression.Constant(c.Value, ClrTypes.Of(c.Type)),
    };

    /// <summary>Structs are values: a struct read from storage is copied before it is stored elsewhere.</summary>
    private static Expression CopyIfStruct(Expression e) =>
        e.Type == typeof(SValue) && e is ParameterExpression or IndexExpression or MemberExpression or ConstantExpression or BinaryExpression
            ? Expression.Call(e, typeof(SValue).GetMethod(nameof(SValue.Clone))!)
            : e;

    private Expression Convert(Expression v, SType from, SType to)
    {
        if (from.Equals(to) || (from.IsIntLike && to.IsIntLike)) return v;
        if (to == SType.Complex) return Expression.Call(typeof(Intrinsics).GetMethod(nameof(Intrinsics.Complex))!, Expression.Convert(v, typeof(double)), Expression.Constant(0.0));
        if (from == SType.Boolean && to.IsIntLike) return Expression.Condition(v, Expression.Constant(1), Expression.Constant(0));
        return Expression.Convert(v, ClrTypes.Of(to));
    }

    /// <summary>
    /// Int arithmetic on two constants (an unrolled counter plus an offset), as the code would compute it (Java's
    /// wrapping, shift counts masked), so indices built from it are constants too. Division is left to run time.
    /// </summary>
    private static int? FoldInt(BinOp op, int x, int y) => op switch
    {
        BinOp.Add => unchecked(x + y),
        BinOp.Sub => unchecked(x - y),
        BinOp.Mul => unchecked(x * y),
        BinOp.And => x & y,
        BinOp.Or => x | y,
        BinOp.Xor => x ^ y,
        BinOp.Shl => x << (y & 31),
        BinOp.Shr => x >> (y & 31),
        BinOp.UShr => (int)((uint)x >> (y & 31)),
        _ => null,
    };

    private Expression Binary(BBinary b)
    {
        var l = Expr(b.Left);
        var r = Expr(b.Right);
        if (b.OperandType == SType.Complex) return ComplexBinary(b, l, r);
        if (b.OperandType == SType.String) throw Unsupported(b.Span, "a string outside print/println");
        if (l is ConstantExpression { Value: int x } && r is ConstantExpression { Value: int y } && FoldInt(b.Op, x, y) is int folded)
            return Expression.Constant(folded);
        return b.Op switch
        {
            BinOp.Add => Expression.Add(l, r),
            BinOp.Sub => Expression.Subtract(l, r),
            BinOp.Mul => Expression.Multiply(l, r),
            BinOp.Div => Expression.Divide(l, r),
            BinOp.Rem => PowerOfTwoRemainder(l, r) ?? Expression.Modulo(l, r),
            BinOp.And => Expression.And(l, r),
            BinOp.Or => Expression.Or(l, r),
            BinOp.Xor => Expression.ExclusiveOr(l, r),
            // Java masks shift counts to 5 bits; IL leaves larger counts undefined, so mask explicitly.
            BinOp.Shl => Expression.LeftShift(l, Expression.And(r, Expression.Constant(31))),
            BinOp.Shr => Expression.RightShift(l, Expression.And(r, Expression.Constant(31))),
            BinOp.UShr => Expression.Convert(Expression.RightShift(Expression.Convert(l, typeof(uint)), Expression.And(r, Expression.Constant(31))), typeof(int)),
            BinOp.Lt => Expression.LessThan(l, r),
            BinOp.Gt => Expression.GreaterThan(l, r),
            BinOp.Le => Expression.LessThanOrEqual(l, r),
            BinOp.Ge => Expression.GreaterThanOrEqual(l, r),
            BinOp.Eq => Expression.Equal(l, r),
            BinOp.Ne => Expression.NotEqual(l, r),
            BinOp.LogAnd => Expression.AndAlso(l, r),
            BinOp.LogOr => Expression.OrElse(l, r),
            _ => throw Unsupported(b.Span, b.Op.ToString()),
        };
    }

    private Expression ComplexBinary(BBinary b, Expression l, Expression r)
    {
        string? m = b.Op switch { BinOp.Add => "CAdd", BinOp.Sub => "CSub", BinOp.Mul => "CMul", BinOp.Div => "CDiv", _ => null };
        if (m is not null) return Expression.Call(typeof(Intrinsics).GetMethod(m)!, l, r);
        var eq = Expression.Call(typeof(Intrinsics).GetMethod(nameof(Intrinsics.CEq))!, l, r);
        return b.Op switch
        {
            BinOp.Eq => eq,
            BinOp.Ne => Expression.Not(eq),
            _ => throw Unsupported(b.Span, $"{b.Op} on complex"),
        };
    }

    private Expression Unary(BUnary u)
    {
        var v = Expr(u.Operand);
        return u.Op switch
        {
            UnOp.Neg when u.Type == SType.Complex => Expression.Call(typeof(Intrinsics).GetMethod(nameof(Intrinsics.CNeg))!, v),
            UnOp.Neg => Expression.Negate(v),
            UnOp.Not => Expression.Not(v),
            _ => Expression.OnesComplement(v),
        };
    }

    // ---- assignment ----
    private Expression Assign(BExpr target, Expression value)
    {
        if (target is BFieldAccess fa) return WriteField(fa, value);
        var saved = _assignTarget;
        _assignTarget = target;
        try { return Expression.Assign(Expr(target), value); }
        finally { _assignTarget = saved; }
    }

    /// <summary>Evaluates an array element target's array and index once (they may pop), for read-modify-write.</summary>
    private (BExpr Target, List<ParameterExpression> Temps, List<Expression> Setup) Stabilize(BExpr target)
    {
        var temps = new List<ParameterExpression>();
        var setup = new List<Expression>();
        if (target is BIndex ix && !(ix.Index is BConst or BVar))
        {
            var arr = Expression.Variable(ClrTypes.Of(ix.Array.Type), "arr");
            var idx = Expression.Variable(typeof(int), "idx");
            temps.Add(arr);
            temps.Add(idx);
            setup.Add(Expression.Assign(arr, Expr(ix.Array)));
            setup.Add(Expression.Assign(idx, Expr(ix.Index)));
            var arrSym = new VarSymbol("arr", ix.Array.Type, VarKind.Local, ix.Span);
            var idxSym = new VarSymbol("idx", SType.Int, VarKind.Local, ix.Span);
            _vars[arrSym] = arr;
            _vars[idxSym] = idx;
            return (ix with { Array = new BVar(arrSym, ix.Span), Index = new BVar(idxSym, ix.Span) }, temps, setup);
        }
        return (target, temps, setup);
    }

    private Expression CompoundAssign(BCompoundAssign ca)
    {
        var (target, temps, setup) = Stabilize(ca.Target);
        var current = Convert(Expr(target), target.Type, ca.OperandType);
        var op = new BBinary(ca.Op, new BHole(current, ca.OperandType), new BHole(Expr(ca.Value), ca.OperandType), ca.OperandType, ca.OperandType, ca.Span);
        var result = Convert(Binary(op), ca.OperandType, target.Type);
        var tmp = Expression.Variable(result.Type, "v");
        return Expression.Block(result.Type, [.. temps, tmp], [.. setup, Expression.Assign(tmp, result), Assign(target, tmp), tmp]);
    }

    private Expression IncDec(BIncDec i)
    {
        var (target, temps, setup) = Stabilize(i.Target);
        var old = Expression.Variable(ClrTypes.Of(target.Type), "old");
        var t = target.Type == SType.Bit ? SType.Int : target.Type;
        Expression one = Expression.Convert(Expression.Constant(1), ClrTypes.Of(t));
        var updated = i.Increment ? Expression.Add(old, one) : Expression.Subtract(old, one);
        var neu = Expression.Variable(old.Type, "new");
        return Expression.Block(old.Type, [.. temps, old, neu],
            [.. setup, Expression.Assign(old, Expr(target)), Expression.Assign(neu, updated), Assign(target, neu), i.Prefix ? neu : old]);
    }

    // ---- structs ----
    private (Expression Root, int Offset) LeafBase(BExpr e)
    {
        if (e is BFieldAccess fa)
        {
            var (root, off) = LeafBase(fa.Target);
            return (root, off + ((StructType)fa.Target.Type).LeafOffset(fa.FieldIndex));
        }
        return (Expr(e), 0);
    }

    private Expression ReadField(BFieldAccess fa)
    {
        var (root, off) = LeafBase(fa);
        if (fa.Type is StructType st)
            return Expression.Call(root, typeof(SValue).GetMethod(nameof(SValue.Slice))!, Expression.Constant(off), Expression.Constant(st.Leaves.Count));
        var leaf = Expression.ArrayIndex(Expression.Field(root, nameof(SValue.L)), Expression.Constant(off));
        return Expression.Convert(leaf, ClrTypes.Of(fa.Type));
    }

    private Expression WriteField(BFieldAccess fa, Expression value)
    {
        var (root, off) = LeafBase(fa);
        var tmp = Expression.Variable(value.Type, "v");
        Expression write = fa.Type is StructType
            ? Expression.Call(root, typeof(SValue).GetMethod(nameof(SValue.CopyInto))!, tmp, Expression.Constant(off))
            : Expression.Assign(Expression.ArrayAccess(Expression.Field(root, nameof(SValue.L)), Expression.Constant(off)), Expression.Convert(tmp, typeof(double)));
        return Expression.Block(tmp.Type, [tmp], Expression.Assign(tmp, value), write, tmp);
    }

    private Expression ArrayInit(BArrayInit ai)
    {
        var at = (ArrayType)ai.Type;
        var elemType = at.ElementAfterIndex;
        var clr = ClrTypes.Of(elemType);
        return Expression.NewArrayInit(clr, ai.Elements.Select(x => x is BArrayInit inner ? ArrayInit(inner) : Expression.Convert(Expr(x), clr)));
    }
}

/// <summary>An already generated expression standing in a bound tree (for compound assignment).</summary>
internal sealed record BHole(Expression Generated, SType HoleType) : BExpr(HoleType, Syntax.SourceSpan.None);
