using System.Linq.Expressions;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    private Expression Stmt(BStmt s)
    {
        switch (s)
        {
            case BBlock b:
                return b.Statements.Length == 0 ? Expression.Empty() : Expression.Block(typeof(void), b.Statements.Select(Stmt));
            case BVarDecl d: return VarDecl(d);
            // A pop whose item is dropped only moves the index: no load (and no bounds check) for it.
            case BExprStmt { Expr: BPop pop } when Port(true, pop.Span).Queue is null: return Expression.Block(typeof(void), Expression.PreIncrementAssign(Port(true, pop.Span).Index));
            case BExprStmt e: return Expression.Block(typeof(void), Expr(e.Expr));
            case BIf { Else: null } i when GuardedIntUpdate(i) is { } select: return select;
            case BIf i:
                return i.Else is null
                    ? Expression.IfThen(Expr(i.Condition), Stmt(i.Then))
                    : Expression.IfThenElse(Expr(i.Condition), Stmt(i.Then), Stmt(i.Else));
            case BLoop l: return Loop(l);
            case BBreak br:
                if (_loops.Count == 0) throw new StreamException($"{br.Span}: 'break' outside a loop");
                return Expression.Break(_loops.Peek().Break);
            case BContinue c:
                if (_loops.Count == 0) throw new StreamException($"{c.Span}: 'continue' outside a loop");
                return Expression.Continue(_loops.Peek().Continue);
            case BReturn r:
                if (_return is null) throw Unsupported(r.Span, "return here");
                return r.Value is null ? Expression.Return(_return) : Expression.Return(_return, Expr(r.Value));
            case BAdd { Portals.Length: > 0 } a:
                return CallBuilder(nameof(ICompositeBuilder.AddTo), Expression.Constant(a.Stream), Args(a.Stream),
                    Expression.NewArrayInit(typeof(object), a.Portals.Select(x => Expression.Convert(Expr(x), typeof(object)))));
            case BAdd a: return CallBuilder(nameof(ICompositeBuilder.Add), Expression.Constant(a.Stream), Args(a.Stream));
            case BBodyOrLoop bl:
                return CallBuilder(nameof(ICompositeBuilder.BodyOrLoop), Expression.Constant(bl.IsBody), Expression.Constant(bl.Stream), Args(bl.Stream));
            case BSplitJoin sj:
                return CallBuilder(nameof(ICompositeBuilder.SplitOrJoin), Expression.Constant(sj.IsSplit), Expression.Constant(sj.Kind),
                    Expression.NewArrayInit(typeof(int), sj.Weights.Select(Expr)));
            case BEnqueue en: return CallBuilder(nameof(ICompositeBuilder.Enqueue), Box(Expr(en.Value)));
            default: throw Unsupported(s.Span, s.GetType().Name);
        }
    }

    private Expression Args(BStreamRef r) =>
        Expression.NewArrayInit(typeof(object), r.Args.Select(a => Box(CopyIfStruct(Expr(a)))));

    private static Expression Box(Expression e) => Expression.Convert(e, typeof(object));

    private Expression CallBuilder(string method, params Expression[] args)
    {
        if (_builder is null) throw new StreamException($"stream construction outside a composite body (in {_where})");
        return Expression.Call(Expression.Constant(_builder), typeof(ICompositeBuilder).GetMethod(method)!, args);
    }

    private Expression Loop(BLoop l)
    {
        if (DroppedPopLoop(l) is { } skip) return skip;
        if (CountingLoop(l) is { } counted) return counted;
        if (Unrolled(l) is { } unrolled) return unrolled;
        var brk = Expression.Label("break");
        var cont = Expression.Label("continue");
        var parts = new List<Expression>();
        if (l.Init is not null) parts.Add(Stmt(l.Init));
        _loops.Push((brk, cont));
        Expression body;
        try { body = WithRange(CountedLoop(l), () => Stmt(l.Body)); }
        finally { _loops.Pop(); }
        var exit = l.Condition is null ? (Expression)Expression.Empty() : Expression.IfThen(Expression.Not(Expr(l.Condition)), Expression.Break(brk));
        var update = l.Update is null ? (Expression)Expression.Empty() : Stmt(l.Update);
        parts.Add(l.TestFirst
            ? Expression.Loop(Expression.Block(exit, body, Expression.Label(cont), update), brk)
            : Expression.Loop(Expression.Block(body, Expression.Label(cont), update, exit), brk));
        return Expression.Block(typeof(void), parts);
    }

    /// <summary>
    /// <c>for (i = 0; i &lt; n; i++) pop();</c> with n fixed per instance (the idiom that drops a firing's window
    /// after peeking it): the input index moves by n pops at once instead of counting them one by one.
    /// </summary>
    private Expression? DroppedPopLoop(BLoop l)
    {
        if (!l.TestFirst || _in is null || _in.Queue is not null) return null;
        var body = l.Body is BBlock b ? b.Statements : [l.Body];
        if (body.Length == 0 || !body.All(st => st is BExprStmt { Expr: BPop })) return null;
        var i = l.Init switch
        {
            BVarDecl { Symbol: var sym, Init: BConst { Value: 0 } } => sym,
            BExprStmt { Expr: BAssign { Target: BVar v, Value: BConst { Value: 0 } } } => v.Symbol,
            _ => null,
        };
        if (i is null || i.Type != SType.Int || i.Kind is not (VarKind.Local or VarKind.Field)) return null;
        if (l.Condition is not BBinary { Op: BinOp.Lt, Left: BVar { Symbol: var ci }, Right: var bound } || ci != i || !IsInvariant(bound)) return null;
        if (l.Update is not BExprStmt { Expr: BIncDec { Target: BVar { Symbol: var ui }, Increment: true } } || ui != i) return null;
        var init = Stmt(l.Init!);
        if (_vars.GetValueOrDefault(i) is not ParameterExpression counter) return null;
        var n = Expression.Variable(typeof(int), "pops");
        return Expression.Block(typeof(void), [n], init, Expression.Assign(n, Expr(bound)),
            Expression.IfThen(Expression.GreaterThan(n, counter), Expression.Block(
                Expression.AddAssign(_in.Index, Expression.Multiply(Expression.Subtract(n, counter), Expression.Constant(body.Length))),
                Expression.Assign(counter, n))));
    }

    private Expression VarDecl(BVarDecl d)
    {
        var sym = d.Symbol;
        Expression target;
        if (sym.Kind == VarKind.Global) target = Global(sym);
        else if (sym.Kind == VarKind.Field) target = _vars[sym];
        else
        {
            if (d.Init is not null && sym.Kind == VarKind.Local && sym.Type.IsScalar && _workBody is not null && !AssignedLocals().Contains(sym))
            {
                var value = Expr(d.Init);
                // A local set once, to a constant (in an unrolled copy, i + 1): the constant itself, so indices fold.
                if (value is ConstantExpression) { _vars[sym] = value; return Expression.Empty(); }
                var declared = DeclLocal(sym);
                _vars[sym] = declared;
                return Expression.Assign(declared, value);
            }
            var local = DeclLocal(sym);
            _vars[sym] = local;
            target = local;
        }
        if (d.Init is not null) return Expression.Assign(target, CopyIfStruct(Expr(d.Init)));
        if (sym.Type is not ArrayType at) return Expression.Assign(target, ClrTypes.Default(sym.Type));
        if (_scalarArrays.Contains(sym)) return ScalarArrayDecl(sym);
        if (sym.Sizes.IsEmpty) return Expression.Assign(target, Expression.Default(target.Type));
        var elem = ClrTypes.Of(at.Element);
        Expression Alloc() => Expression.Convert(Expression.Call(typeof(ArrayAlloc).GetMethod(nameof(ArrayAlloc.Make))!,
            Expression.Constant(elem), Expression.NewArrayInit(typeof(int), sym.Sizes.Select(Expr)),
            Expression.Constant(ClrTypes.StructLeaves(at.Element))), target.Type);
        if (!(_hoistArrays && sym.Kind == VarKind.Local && sym.Sizes.All(IsInvariant)))
            return Expression.Assign(target, Alloc());
        // A local array of fixed size in work is made once per compiled function and cleared at each
        // declaration: Java's fresh zeroed array, without allocating in the steady state.
        // The storage outlives the call (a box held by the compiled code), so a batch of firings allocates nothing.
        var hoisted = NewLocal(target.Type, sym.Name + "_storage");
        var box = Expression.Field(Expression.Constant(Activator.CreateInstance(typeof(System.Runtime.CompilerServices.StrongBox<>).MakeGenericType(target.Type))), "Value");
        _prologue.Add(Expression.Assign(hoisted, box));
        _prologue.Add(Expression.IfThen(Expression.Equal(hoisted, Expression.Constant(null, target.Type)),
            Expression.Assign(box, Expression.Assign(hoisted, Alloc()))));
        // A list filled in order before it is read (CodeGenFilledArrays) needs no clear.
        if (FilledArraysOf().Contains(sym)) return Expression.Assign(target, hoisted);
        Expression clear = at.Rank == 1 && at.Element is not StructType
            ? Expression.Call(typeof(ArrayAlloc).GetMethod(nameof(ArrayAlloc.Clear))!.MakeGenericMethod(elem), hoisted)
            : at.Rank == 2 && target.Type.GetElementType()?.GetElementType() is { IsPrimitive: true } leaf
            ? Expression.Call(typeof(ArrayAlloc).GetMethod(nameof(ArrayAlloc.Clear2))!.MakeGenericMethod(leaf), hoisted)
            : Expression.Call(typeof(ArrayAlloc).GetMethod(nameof(ArrayAlloc.Zero))!, hoisted);
        return Expression.Block(typeof(void), clear, Expression.Assign(target, hoisted));
    }

    /// <summary>
    /// <c>if (c) v = e;</c> for an int local or field and an <c>e</c> that cannot fail or have effects, as
    /// <c>v = Select(c, e, v)</c>: the same value, computed without a branch.
    /// </summary>
    private Expression? GuardedIntUpdate(BIf i)
    {
        var then = i.Then is BBlock { Statements: [var only] } ? only : i.Then;
        if (then is not BExprStmt { Expr: BAssign { Target: BVar { Symbol: { Kind: VarKind.Local or VarKind.Field } sym } target, Value: var value } }
            || sym.Type != SType.Int || !IsPlainArithmetic(value) || !_vars.TryGetValue(sym, out var v) || v is not ParameterExpression)
            return null;
        var select = typeof(Intrinsics).GetMethod(nameof(Intrinsics.Select))!;
        // v = v ± d (a count): v ± (c ? d : 0), so only the addition waits for the previous value of v.
        if (value is BBinary { Op: BinOp.Add or BinOp.Sub, Left: BVar { Symbol: var l }, Right: var d } step && l == sym
            && !BoundWalker.Nodes(d).OfType<BVar>().Any(x => x.Symbol == sym) && Expr(d) is { Type: var dt } de && dt == typeof(int))
        {
            Expression masked = de is ConstantExpression { Value: 1 }
                ? Expression.Call(typeof(Intrinsics).GetMethod(nameof(Intrinsics.Bit))!, Expr(i.Condition))
                : Expression.Call(select, Expr(i.Condition), de, Expression.Constant(0));
            return Expression.Assign(v, step.Op == BinOp.Add ? Expression.Add(v, masked) : Expression.Subtract(v, masked));
        }
        var e = Expr(value);
        if (e.Type != typeof(int)) return null;
        return Expression.Assign(v, Expression.Call(select, Expr(i.Condition), e, v));
    }

    /// <summary>Arithmetic on variables and constants that cannot throw (no division, no array, no call).</summary>
    private static bool IsPlainArithmetic(BExpr e) => BoundWalker.Nodes(e).All(n => n switch
    {
        BExprStmt or BConst or BUnary => true,
        BBinary b => b.Op is not (BinOp.Div or BinOp.Rem),
        BVar v => v.Symbol.Type is not ArrayType,
        _ => false,
    });

    /// <summary>Made only of constants, parameters and globals: the same value on every firing.</summary>
    private bool IsInvariant(BExpr e) => BoundWalker.Nodes(e).All(n => n switch
    {
        BExprStmt or BConst or BBinary or BUnary or BConvert or BConditional => true,
        BVar v => v.Symbol.Kind is VarKind.Param or VarKind.Global || _constFields.Contains(v.Symbol),
        _ => false,
    });
}
