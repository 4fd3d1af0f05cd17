using System.Collections.Immutable;
using Loom.Streams.Syntax;

namespace Loom.Streams.Semantics;

public sealed partial class Binder
{
    private BBlock BindBlock(BlockStmt b, bool newScope)
    {
        var saved = _scope;
        if (newScope) _scope = new Scope(_scope);
        try
        {
            var list = ImmutableArray.CreateBuilder<BStmt>();
            foreach (var s in b.Statements) list.AddRange(BindStatement(s));
            return new BBlock(list.ToImmutable(), b.Span);
        }
        finally { _scope = saved; }
    }

    /// <summary>Binds one statement (a declaration of several variables gives several).</summary>
    private IEnumerable<BStmt> BindStatement(Stmt s)
    {
        switch (s)
        {
            case BlockStmt b: return [BindBlock(b, newScope: true)];
            case EmptyStmt: return [];
            case VarDeclStmt v: return BindVarDecl(v, VarKind.Local);
            case ExprStmt e: return [BindExprStatement(e)];
            case IfStmt i:
            {
                var cond = Condition(i.Condition);
                var then = Scoped(i.Then);
                var els = i.Else is null ? null : Scoped(i.Else);
                return [new BIf(cond, then, els, i.Span)];
            }
            case ForStmt f:
            {
                var saved = _scope;
                _scope = new Scope(_scope);
                try
                {
                    var init = f.Init is null ? null : Block(BindStatement(f.Init), f.Init.Span);
                    var cond = f.Condition is null ? null : Condition(f.Condition);
                    var update = f.Update is null ? null : Block(BindStatement(f.Update), f.Update.Span);
                    var body = LoopBody(f.Body);
                    return [new BLoop(init, cond, update, body, true, f.Span)];
                }
                finally { _scope = saved; }
            }
            case WhileStmt w:
            {
                var cond = Condition(w.Condition);
                return [new BLoop(null, cond, null, LoopBody(w.Body), true, w.Span)];
            }
            case DoWhileStmt d:
            {
                var body = LoopBody(d.Body);
                return [new BLoop(null, Condition(d.Condition), null, body, false, d.Span)];
            }
            case BreakStmt br:
                if (_loopDepth == 0) throw br.Span.Error("'break' outside a loop");
                return [new BBreak(br.Span)];
            case ContinueStmt c:
                if (_loopDepth == 0) throw c.Span.Error("'continue' outside a loop");
                return [new BContinue(c.Span)];
            case ReturnStmt r: return [BindReturn(r)];
            case AddStmt a:
            {
                RequireComposite(a.Span, "add", StreamKind.Pipeline, StreamKind.SplitJoin);
                var portals = a.Portals.Select(BindExpr).ToImmutableArray();
                foreach (var p in portals)
                    if (p.Type is not PortalType) throw p.Span.Error($"'to' needs a portal, but this is {p.Type}");
                return [new BAdd(BindStreamRef(a.Stream), portals, a.Span)];
            }
            case SplitStmt sp: return [BindSplitJoin(true, sp.Spec, sp.Span)];
            case JoinStmt j: return [BindSplitJoin(false, j.Spec, j.Span)];
            case BodyStmt bo:
                RequireComposite(bo.Span, "body", StreamKind.FeedbackLoop);
                return [new BBodyOrLoop(true, BindStreamRef(bo.Stream), bo.Span)];
            case LoopStmt lo:
                RequireComposite(lo.Span, "loop", StreamKind.FeedbackLoop);
                return [new BBodyOrLoop(false, BindStreamRef(lo.Stream), lo.Span)];
            case EnqueueStmt en:
            {
                RequireComposite(en.Span, "enqueue", StreamKind.FeedbackLoop);
                var v = BindExpr(en.Value);
                if (!(v.Type.IsScalar || v.Type is StructType)) throw en.Value.Span.Error($"cannot enqueue a {v.Type}");
                return [new BEnqueue(v, en.Span)];
            }
            default: throw s.Span.Error("unsupported statement");
        }
    }

    private static BStmt Block(IEnumerable<BStmt> stmts, SourceSpan span)
    {
        var list = stmts.ToImmutableArray();
        return list.Length == 1 ? list[0] : new BBlock(list, span);
    }

    private BStmt Scoped(Stmt s)
    {
        var saved = _scope;
        _scope = new Scope(_scope);
        try { return Block(BindStatement(s), s.Span); }
        finally { _scope = saved; }
    }

    private BStmt LoopBody(Stmt s)
    {
        _loopDepth++;
        try { return Scoped(s); }
        finally { _loopDepth--; }
    }

    private BExpr Condition(Expr e)
    {
        var b = BindExpr(e);
        if (b.Type != SType.Boolean) throw e.Span.Error($"a condition must be boolean, but this is {b.Type}");
        return b;
    }

    private BStmt BindReturn(ReturnStmt r)
    {
        if (r.Value is null)
        {
            if (_returnType != SType.Void) throw r.Span.Error($"this function must return a {_returnType}");
            return new BReturn(null, r.Span);
        }
        if (_returnType == SType.Void) throw r.Span.Error("cannot return a value here");
        var v = Coerce(BindExpr(r.Value), _returnType, r.Value.Span);
        return new BReturn(v, r.Span);
    }

    private void RequireComposite(SourceSpan span, string what, params StreamKind[] kinds)
    {
        if (_code != CodeKind.Composite || _stream is null || !kinds.Contains(_stream.Kind))
        {
            var where = string.Join(" or ", kinds.Select(k => k.ToString().ToLowerInvariant()));
            throw span.Error($"'{what}' is only allowed in the body of a {where}");
        }
    }

    private BSplitJoin BindSplitJoin(bool isSplit, SplitJoinSpec spec, SourceSpan span)
    {
        RequireComposite(span, isSplit ? "split" : "join", StreamKind.SplitJoin, StreamKind.FeedbackLoop);
        var weights = spec.Weights.Select(w => Coerce(BindExpr(w), SType.Int, w.Span)).ToImmutableArray();
        return new BSplitJoin(isSplit, spec.Kind, weights, span);
    }

    private BStmt BindExprStatement(ExprStmt s)
    {
        var e = BindExpr(s.Expr, statement: true);
        if (e is not (BAssign or BCompoundAssign or BIncDec or BCall or BPush or BPop or BPeek or BPrint or BMessage or BIntrinsic))
            throw s.Span.Error("this expression does nothing: a statement must be an assignment, ++/--, or a call");
        return new BExprStmt(e, s.Span);
    }

    private List<BVarDecl> BindVarDecl(VarDeclStmt d, VarKind kind)
    {
        var list = new List<BVarDecl>();
        foreach (var v in d.Vars)
        {
            if (_scope.DeclaresHere(v.Name)) throw v.Span.Error($"'{v.Name}' is already declared here");
            if (kind == VarKind.Field && _stream is not null && _stream.Params.Any(p => p.Name == v.Name))
                throw v.Span.Error($"field '{v.Name}' has the same name as a parameter of {_stream.Name}");
            var (type, sizes) = ResolveTypeWithSizes(d.Type, v.ExtraSizes, []);
            if (type == SType.Void) throw v.Span.Error($"variable '{v.Name}' cannot be void");
            if (type is ArrayType at && at.Element is StructType st && st != SType.Complex && st.Leaves.Count == 0)
                throw v.Span.Error($"array of empty struct {st.Name}");
            var sym = new VarSymbol(v.Name, type, kind, v.Span) { Sizes = sizes };
            BExpr? init = null;
            if (v.Init is ArrayInitExpr ai) init = BindArrayInit(ai, type);
            else if (v.Init is not null) init = Coerce(BindExpr(v.Init), type, v.Init.Span, $"'{v.Name}'");
            if (type is ArrayType && sizes.IsEmpty && init is not (BArrayInit or BVar or null))
                throw v.Span.Error($"array '{v.Name}' needs a size");
            _scope.Vars[v.Name] = sym;
            list.Add(new BVarDecl(sym, init, v.Span));
        }
        return list;
    }

    private BArrayInit BindArrayInit(ArrayInitExpr a, SType type)
    {
        if (type is not ArrayType at) throw a.Span.Error($"an initializer {{…}} needs an array, but the target is {type}");
        var elemType = at.ElementAfterIndex;
        var elems = a.Elements.Select(e => e is ArrayInitExpr inner ? BindArrayInit(inner, elemType) : Coerce(BindExpr(e), elemType, e.Span)).ToImmutableArray();
        return new BArrayInit(elems, type, a.Span);
    }
}
