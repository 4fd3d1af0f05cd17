using System.Linq.Expressions;
using Loom.Streams.Execution;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    /// <summary>A helper function, inlined: its parameters become fresh locals and <c>return</c> jumps to the end.</summary>
    private Expression Call(BCall call)
    {
        var fn = call.Function;
        if (!_inlining.Add(fn)) throw Unsupported(call.Span, $"the recursive call of {fn.Name}");
        var savedLoops = _loops.ToArray();
        _loops.Clear();
        try
        {
            var setup = new List<Expression>();
            var temps = new List<ParameterExpression>();
            foreach (var (p, a) in fn.Parameters.Zip(call.Args))
            {
                // Arguments are evaluated before the parameters are bound (a nested call may rebind them).
                var t = Expression.Variable(ClrTypes.Of(p.Type), p.Name + "_arg");
                temps.Add(t);
                setup.Add(Expression.Assign(t, CopyIfStruct(Expr(a))));
            }
            foreach (var (p, t) in fn.Parameters.Zip(temps))
            {
                var local = NewLocal(t.Type, p.Name);
                _vars[p] = local;
                setup.Add(Expression.Assign(local, t));
            }
            var ret = ClrTypes.Of(fn.ReturnType);
            var body = WithReturn(ret, () =>
            {
                var b = Stmt(fn.Body);
                return ret == typeof(void) ? b : Expression.Block(ret, b, Expression.Default(ret));
            });
            return Expression.Block(ret, temps, [.. setup, body]);
        }
        finally
        {
            _inlining.Remove(fn);
            foreach (var l in savedLoops.Reverse()) _loops.Push(l);
        }
    }

    private static readonly Dictionary<string, Func<Expression, Expression>> Unary1 = new()
    {
        ["sqrt"] = x => M(typeof(Math), "Sqrt", x), ["sin"] = x => M(typeof(Math), "Sin", x), ["cos"] = x => M(typeof(Math), "Cos", x),
        ["tan"] = x => M(typeof(Math), "Tan", x), ["asin"] = x => M(typeof(Math), "Asin", x), ["acos"] = x => M(typeof(Math), "Acos", x),
        ["atan"] = x => M(typeof(Math), "Atan", x), ["sinh"] = x => M(typeof(Math), "Sinh", x), ["cosh"] = x => M(typeof(Math), "Cosh", x),
        ["tanh"] = x => M(typeof(Math), "Tanh", x), ["exp"] = x => M(typeof(Math), "Exp", x), ["log"] = x => M(typeof(Math), "Log", x),
        ["log10"] = x => M(typeof(Math), "Log10", x), ["floor"] = x => M(typeof(Math), "Floor", x), ["ceil"] = x => M(typeof(Math), "Ceiling", x),
        ["round"] = x => M(typeof(Intrinsics), "Round", x), ["rint"] = x => M(typeof(Intrinsics), "Rint", x),
        ["cbrt"] = x => M(typeof(Intrinsics), "Cbrt", x), ["expm1"] = x => M(typeof(Intrinsics), "Expm1", x),
        ["log1p"] = x => M(typeof(Intrinsics), "Log1p", x),
    };

    private static readonly Dictionary<string, string> SingleExact = new() { ["sqrt"] = "Sqrt", ["floor"] = "Floor", ["ceil"] = "Ceiling" };

    private static readonly Dictionary<string, Func<Expression, Expression, Expression>> Binary2 = new()
    {
        ["atan2"] = (x, y) => M(typeof(Math), "Atan2", x, y), ["pow"] = (x, y) => M(typeof(Math), "Pow", x, y),
        ["fmod"] = (x, y) => M(typeof(Intrinsics), "Fmod", x, y), ["hypot"] = (x, y) => M(typeof(Intrinsics), "Hypot", x, y),
    };

    private static MethodCallExpression M(Type t, string name, params Expression[] args) =>
        Expression.Call(t.GetMethod(name, args.Select(a => a.Type).ToArray())!, args);

    /// <summary>Math intrinsics compute in double (as C's libm calls do) and round once to the result type.</summary>
    private Expression Intrinsic(BIntrinsic i)
    {
        var type = ClrTypes.Of(i.Type);
        Expression D(BExpr a) => Expression.Convert(Expr(a), typeof(double));
        // sqrt, floor and ceil of a float in single precision give exactly the double result rounded once (a
        // double's 53 bits are more than twice a float's 24 plus 2, so rounding twice cannot differ; floor and
        // ceil of a float are floats), without the two conversions and with the shorter sqrtss.
        if (type == typeof(float) && i.Args.Length == 1 && ClrTypes.Of(i.Args[0].Type) == typeof(float) && SingleExact.TryGetValue(i.Name, out var s1))
            return M(typeof(MathF), s1, Expr(i.Args[0]));
        if (Unary1.TryGetValue(i.Name, out var f1)) return Expression.Convert(f1(D(i.Args[0])), type);
        if (Binary2.TryGetValue(i.Name, out var f2)) return Expression.Convert(f2(D(i.Args[0]), D(i.Args[1])), type);
        switch (i.Name)
        {
            case "abs" when type == typeof(int): return M(typeof(Intrinsics), nameof(Intrinsics.AbsInt), Expr(i.Args[0]));
            case "abs": return M(typeof(Math), "Abs", Expr(i.Args[0]));
            case "cabs": return M(typeof(Intrinsics), nameof(Intrinsics.CAbs), Expr(i.Args[0]));
            case "min": return M(typeof(Math), "Min", Expr(i.Args[0]), Expr(i.Args[1]));
            case "max": return M(typeof(Math), "Max", Expr(i.Args[0]), Expr(i.Args[1]));
        }
        throw Unsupported(i.Span, $"the function {i.Name}");
    }

    // ---- stream access ----
    private PortAccess Port(bool input, Syntax.SourceSpan span) =>
        (input ? _in : _out) ?? throw new StreamException($"{span}: {(input ? "pop/peek" : "push")} is only allowed in work or prework (in {_where})");

    /// <summary>An item's place read as a value: through a table proven in range, without the arena's bounds check.</summary>
    private static Expression Load(PortAccess p, Expression index) => p is { Table: not null, TableInRange: true }
        ? Expression.Call(typeof(UncheckedArray).GetMethod(nameof(UncheckedArray.Load))!.MakeGenericMethod(p.Item), p.Buf, Expression.ArrayIndex(p.Table, index))
        : Slot(p, index);

    private static Expression Slot(PortAccess p, Expression index) =>
        p.Table is not null ? Expression.ArrayAccess(p.Buf, Expression.ArrayIndex(p.Table, index))
        : p.Mask >= 0 ? Expression.ArrayAccess(p.Buf, Expression.And(index, Expression.Constant(p.Mask)))
        : Expression.ArrayAccess(p.Buf, index);

    private Expression Pop(BPop e)
    {
        var p = Port(true, e.Span);
        if (p.Queue is not null) return FromItem(Expression.Call(p.Queue, "Pop", null), p.Item, e.Type);
        var slot = Load(p, Expression.PostIncrementAssign(p.Index));
        return FromItem(slot, p.Item, e.Type);
    }

    private Expression Peek(BPeek e)
    {
        var p = Port(true, e.Span);
        if (p.Queue is not null) return FromItem(Expression.Call(p.Queue, "Peek", null, Expr(e.Index)), p.Item, e.Type);
        return FromItem(Load(p, Expression.Add(p.Index, Expr(e.Index))), p.Item, e.Type);
    }

    private Expression Push(BPush e)
    {
        var p = Port(false, e.Span);
        var v = CopyIfStruct(Expr(e.Value));
        if (v.Type != p.Item) v = Expression.Convert(v, p.Item);
        if (p.Queue is not null) return Expression.Call(p.Queue, "Push", null, v);
        return Expression.Block(typeof(void), Expression.Assign(Slot(p, Expression.PostIncrementAssign(p.Index)), v));
    }

    // A channel's item type can differ from the filter's declared one only where both are held the same way (int and bit).
    private static Expression FromItem(Expression slot, Type item, SType declared)
    {
        var t = ClrTypes.Of(declared);
        return t == item ? slot : Expression.Convert(slot, t);
    }

    private Expression Print(BPrint p)
    {
        if (_printer is null) throw new StreamException($"{p.Span}: print is not allowed here (in {_where})");
        if (LocalPrint(p) is { } local) return local;
        var printer = Expression.Constant(_printer);
        var calls = new List<Expression>();
        foreach (var part in p.Parts)
        {
            var v = Expr(part);
            string method = part.Type switch
            {
                _ when part.Type.IsIntLike => nameof(Printer.PrintInt),
                _ when part.Type == SType.Float => nameof(Printer.PrintFloat),
                _ when part.Type == SType.Double => nameof(Printer.PrintDouble),
                _ when part.Type == SType.Boolean => nameof(Printer.PrintBool),
                _ when part.Type == SType.Complex => nameof(Printer.PrintComplex),
                _ => nameof(Printer.PrintString),
            };
            calls.Add(Expression.Call(printer, typeof(Printer).GetMethod(method)!, v));
        }
        calls.Add(Expression.Call(printer, typeof(Printer).GetMethod(nameof(Printer.EndPrint))!, Expression.Constant(p.NewLine)));
        return Expression.Block(typeof(void), calls);
    }
}
