using System.Collections.Immutable;
using System.Globalization;
using Loom.Streams.Syntax;

namespace Loom.Streams.Semantics;

public sealed partial class Binder
{
    private BExpr BindExpr(Expr e) => BindExpr(e, statement: false);

    private BExpr BindExpr(Expr e, bool statement)
    {
        switch (e)
        {
            case IntLiteral i:
                if (i.Value is > int.MaxValue or < int.MinValue) throw i.Span.Error($"integer literal {i.Value} is too large for int");
                return new BConst((int)i.Value, SType.Int, i.Span);
            case FloatLiteral f:
            {
                var text = f.Text.TrimEnd('f', 'F', 'd', 'D');
                if (f.IsDouble) return new BConst(double.Parse(text, CultureInfo.InvariantCulture), SType.Double, f.Span);
                // Parse straight to float: a decimal literal rounds once, as Java's float literals do.
                return new BConst(float.Parse(text, CultureInfo.InvariantCulture), SType.Float, f.Span);
            }
            case BoolLiteral b: return new BConst(b.Value, SType.Boolean, b.Span);
            case StringLiteral s: return new BConst(s.Value, SType.String, s.Span);
            case NameExpr n: return BindName(n);
            case BinaryExpr b: return BindBinary(b);
            case UnaryExpr u: return BindUnary(u);
            case IncDecExpr inc:
            {
                var target = BindLValue(inc.Target);
                if (!target.Type.IsNumeric) throw inc.Span.Error($"{(inc.Increment ? "++" : "--")} needs a number, but this is {target.Type}");
                return new BIncDec(target, inc.Increment, inc.Prefix, inc.Span);
            }
            case AssignExpr a: return BindAssign(a);
            case ConditionalExpr c:
            {
                var cond = Condition(c.Condition);
                var x = BindExpr(c.WhenTrue);
                var y = BindExpr(c.WhenFalse);
                var t = x.Type.Equals(y.Type) ? x.Type : TypeRules.Promote(x.Type, y.Type)
                    ?? throw c.Span.Error($"the two branches of ?: have different types ({x.Type} and {y.Type})");
                return new BConditional(cond, Coerce(x, t, c.WhenTrue.Span), Coerce(y, t, c.WhenFalse.Span), t, c.Span);
            }
            case CastExpr c:
            {
                var to = ResolveType(c.Type);
                var v = BindExpr(c.Operand);
                if (v.Type.Equals(to)) return v;
                if (!TypeRules.IsCastable(v.Type, to)) throw c.Span.Error($"cannot cast {v.Type} to {to}");
                return new BConvert(v, to, c.Span);
            }
            case IndexExpr ix:
            {
                var arr = BindExpr(ix.Target);
                if (arr.Type is not ArrayType at) throw ix.Target.Span.Error($"only arrays can be indexed, but this is {arr.Type}");
                var index = Coerce(BindExpr(ix.Index), SType.Int, ix.Index.Span, "an array index");
                return new BIndex(arr, index, at.ElementAfterIndex, ix.Span);
            }
            case FieldExpr fe:
            {
                var target = BindExpr(fe.Target);
                if (target.Type is not StructType st) throw fe.Span.Error($"{target.Type} has no fields (looking for .{fe.Field})");
                int idx = st.FieldIndex(fe.Field);
                if (idx < 0) throw fe.Span.Error($"{st.Name} has no field '{fe.Field}'");
                return new BFieldAccess(target, idx, st.Fields[idx].Type, fe.Span);
            }
            case CallExpr call: return BindCall(call, statement);
            case MessageExpr m:
            {
                var portal = BindExpr(m.Portal);
                if (portal.Type is not PortalType) throw m.Portal.Span.Error($"messages are sent through a portal, but this is {portal.Type}");
                if (_code is not (CodeKind.Work or CodeKind.Prework or CodeKind.Helper or CodeKind.Init))
                    throw m.Span.Error("messages can only be sent from a filter's code");
                var args = m.Args.Select(BindExpr).ToImmutableArray();
                var min = m.MinLatency is null ? null : Coerce(BindExpr(m.MinLatency), SType.Int, m.MinLatency.Span);
                var max = m.MaxLatency is null ? null : Coerce(BindExpr(m.MaxLatency), SType.Int, m.MaxLatency.Span);
                return new BMessage(portal, m.Handler, args, min, max, m.Span);
            }
            case ArrayInitExpr ai: throw ai.Span.Error("an array initializer {…} is only allowed in a declaration");
            default: throw e.Span.Error("unsupported expression");
        }
    }

    private BExpr BindName(NameExpr n)
    {
        var v = _scope.Lookup(n.Name) ?? (_globals.TryGetValue(n.Name, out var g) ? g : null);
        if (v is not null) return new BVar(v, n.Span);
        if (n.Name == "pi") return new BConst((float)Math.PI, SType.Float, n.Span);
        if (_prog.Streams.ContainsKey(n.Name) || _streamDecls.ContainsKey(n.Name))
            throw n.Span.Error($"'{n.Name}' is a stream, not a value");
        throw n.Span.Error($"unknown name '{n.Name}'");
    }

    private static BinOp ToBinOp(string op, SourceSpan span) => op switch
    {
        "+" => BinOp.Add, "-" => BinOp.Sub, "*" => BinOp.Mul, "/" => BinOp.Div, "%" => BinOp.Rem,
        "&" => BinOp.And, "|" => BinOp.Or, "^" => BinOp.Xor, "<<" => BinOp.Shl, ">>" => BinOp.Shr, ">>>" => BinOp.UShr,
        "<" => BinOp.Lt, ">" => BinOp.Gt, "<=" => BinOp.Le, ">=" => BinOp.Ge, "==" => BinOp.Eq, "!=" => BinOp.Ne,
        "&&" => BinOp.LogAnd, "||" => BinOp.LogOr,
        _ => throw span.Error($"unknown operator '{op}'"),
    };

    private BExpr BindBinary(BinaryExpr b)
    {
        var l = BindExpr(b.Left);
        var r = BindExpr(b.Right);
        return MakeBinary(ToBinOp(b.Op, b.Span), b.Op, l, r, b.Span);
    }

    private BExpr MakeBinary(BinOp op, string opText, BExpr l, BExpr r, SourceSpan span)
    {
        string Bad() => $"operator '{opText}' cannot be applied to {l.Type} and {r.Type}";
        if (op == BinOp.Add && (l.Type == SType.String || r.Type == SType.String))
        {
            if (l.Type == SType.Void || r.Type == SType.Void || l.Type is ArrayType || r.Type is ArrayType) throw span.Error(Bad());
            return new BBinary(op, l, r, SType.String, SType.String, span);
        }
        switch (op)
        {
            case BinOp.Add or BinOp.Sub or BinOp.Mul or BinOp.Div:
            {
                var t = TypeRules.Promote(l.Type, r.Type) ?? throw span.Error(Bad());
                return new BBinary(op, Coerce(l, t, span), Coerce(r, t, span), t, t, span);
            }
            case BinOp.Rem:
            {
                var t = TypeRules.Promote(l.Type, r.Type);
                if (t is null || t == SType.Complex) throw span.Error(Bad());
                return new BBinary(op, Coerce(l, t, span), Coerce(r, t, span), t, t, span);
            }
            case BinOp.Lt or BinOp.Gt or BinOp.Le or BinOp.Ge:
            {
                var t = TypeRules.Promote(l.Type, r.Type);
                if (t is null || t == SType.Complex) throw span.Error(Bad());
                return new BBinary(op, Coerce(l, t, span), Coerce(r, t, span), t, SType.Boolean, span);
            }
            case BinOp.Eq or BinOp.Ne:
            {
                SType? t = l.Type == SType.Boolean && r.Type == SType.Boolean ? SType.Boolean : TypeRules.Promote(l.Type, r.Type);
                if (t is null) throw span.Error(Bad());
                return new BBinary(op, Coerce(l, t, span), Coerce(r, t, span), t, SType.Boolean, span);
            }
            case BinOp.LogAnd or BinOp.LogOr:
                if (l.Type != SType.Boolean || r.Type != SType.Boolean) throw span.Error(Bad());
                return new BBinary(op, l, r, SType.Boolean, SType.Boolean, span);
            case BinOp.And or BinOp.Or or BinOp.Xor:
                if (l.Type == SType.Boolean && r.Type == SType.Boolean) return new BBinary(op, l, r, SType.Boolean, SType.Boolean, span);
                if (!l.Type.IsIntLike || !r.Type.IsIntLike) throw span.Error(Bad());
                var res = l.Type == SType.Bit && r.Type == SType.Bit ? SType.Bit : SType.Int;
                return new BBinary(op, l, r, SType.Int, res, span);
            default: // shifts
                if (!l.Type.IsIntLike || !r.Type.IsIntLike) throw span.Error(Bad());
                return new BBinary(op, l, r, SType.Int, SType.Int, span);
        }
    }

    private BExpr BindUnary(UnaryExpr u)
    {
        var v = BindExpr(u.Operand);
        switch (u.Op)
        {
            case "-":
                if (v.Type.IsIntLike) return new BUnary(UnOp.Neg, Coerce(v, SType.Int, u.Span), SType.Int, u.Span);
                if (v.Type.IsReal || v.Type == SType.Complex) return new BUnary(UnOp.Neg, v, v.Type, u.Span);
                break;
            case "+":
                if (v.Type.IsNumeric || v.Type == SType.Complex) return v.Type == SType.Bit ? Coerce(v, SType.Int, u.Span) : v;
                break;
            case "!":
                if (v.Type == SType.Boolean) return new BUnary(UnOp.Not, v, SType.Boolean, u.Span);
                break;
            case "~":
                if (v.Type.IsIntLike) return new BUnary(UnOp.BitNot, Coerce(v, SType.Int, u.Span), SType.Int, u.Span);
                break;
        }
        throw u.Span.Error($"operator '{u.Op}' cannot be applied to {v.Type}");
    }

    private BExpr BindAssign(AssignExpr a)
    {
        var target = BindLValue(a.Target);
        if (a.Op is null)
        {
            var value = a.Value is ArrayInitExpr ai ? BindArrayInit(ai, target.Type) : BindExpr(a.Value);
            return new BAssign(target, Coerce(value, target.Type, a.Value.Span), a.Span);
        }
        var v = BindExpr(a.Value);
        var op = ToBinOp(a.Op, a.Span);
        // x op= v is x = (T)(x op v): bind the operation to learn its operand type.
        var probe = MakeBinary(op, a.Op + "=", target, v, a.Span);
        if (probe is not BBinary bb || bb.Type == SType.Boolean && target.Type != SType.Boolean || bb.Type == SType.String)
            throw a.Span.Error($"operator '{a.Op}=' cannot be applied to {target.Type} and {v.Type}");
        if (!TypeRules.IsCastable(bb.Type, target.Type)) throw a.Span.Error($"cannot store a {bb.Type} in {target.Type}");
        return new BCompoundAssign(target, op, bb.Right, bb.OperandType, a.Span);
    }

    private BExpr BindLValue(Expr e)
    {
        var b = BindExpr(e);
        var root = b;
        while (true)
        {
            if (root is BIndex ix) root = ix.Array;
            else if (root is BFieldAccess fa) root = fa.Target;
            else break;
        }
        if (root is not BVar v) throw e.Span.Error("only a variable, an array element or a field can be assigned");
        switch (v.Symbol.Kind)
        {
            case VarKind.Param when _code != CodeKind.Composite:
                throw e.Span.Error($"'{v.Symbol.Name}' is a stream parameter and cannot be changed");
            case VarKind.Global when _code != CodeKind.Static:
                throw e.Span.Error($"'{v.Symbol.Name}' is a global constant and can only be set in the static block");
            case VarKind.Field when _code == CodeKind.Composite:
                throw e.Span.Error($"'{v.Symbol.Name}' cannot be assigned here");
        }
        return b;
    }

    /// <summary>Converts <paramref name="e"/> to <paramref name="to"/> where an assignment may, or fails naming what it is.</summary>
    internal static BExpr Coerce(BExpr e, SType to, SourceSpan span, string? what = null)
    {
        if (e.Type.Equals(to)) return e;
        if (!TypeRules.IsAssignable(e.Type, to))
        {
            var hint = TypeRules.IsCastable(e.Type, to) ? $" (write ({to}) to convert)" : "";
            throw span.Error($"cannot use a {e.Type} as {(what is null ? "a " + to : what + $" ({to})")}{hint}");
        }
        return new BConvert(e, to, e.Span);
    }
}
