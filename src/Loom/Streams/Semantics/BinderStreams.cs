using System.Collections.Immutable;
using Loom.Streams.Syntax;

namespace Loom.Streams.Semantics;

public sealed partial class Binder
{
    private readonly Dictionary<StreamSymbol, Scope> _fieldScopes = [];

    private static string AnonymousName(StreamDecl d)
    {
        var (line, _) = d.Span.File?.LineColumn(d.Span.Start) ?? (0, 0);
        var file = d.Span.File is null ? "" : System.IO.Path.GetFileName(d.Span.File.Path);
        return $"{d.Kind.ToString().ToLowerInvariant()}@{file}:{line}";
    }

    /// <summary>Makes the symbol of a stream declaration: its types and parameters (bodies come later).</summary>
    private StreamSymbol DeclareStream(StreamDecl d, Scope? outer)
    {
        var sym = new StreamSymbol
        {
            Name = d.Name ?? AnonymousName(d), Kind = d.Kind, Span = d.Span, Syntax = d, DeclaredStateful = d.Stateful,
        };
        if (d.Type is not null)
        {
            sym.InputType = ResolveType(d.Type.Input);
            sym.OutputType = ResolveType(d.Type.Output);
            foreach (var t in new[] { (sym.InputType, d.Type.Input), (sym.OutputType, d.Type.Output) })
                if (t.Item1 is ArrayType or PortalType || t.Item1 == SType.String)
                    throw t.Item2.Span.Error($"{t.Item1} cannot flow on a stream (stream items are scalars, complex or structs)");
        }
        else if (d.Kind == StreamKind.Filter)
            throw d.Span.Error($"{sym.Name}: a filter must declare its input and output types (for example float->float filter)");
        CheckDistinct(d.Params);
        var root = new Scope(null) { Boundary = outer is null ? null : (outer, sym) };
        foreach (var p in d.Params)
        {
            var (type, sizes) = WithCode(CodeKind.Composite, sym, root, () => ResolveTypeWithSizes(p.Type, [], []));
            var v = new VarSymbol(p.Name, type, VarKind.Param, p.Span) { Index = sym.Params.Count, Sizes = sizes };
            sym.Params.Add(v);
            root.Vars[p.Name] = v;
        }
        _fieldScopes[sym] = root;
        return sym;
    }

    private T WithCode<T>(CodeKind code, StreamSymbol? stream, Scope scope, Func<T> f)
    {
        var saved = (_code, _stream, _scope, _returnType, _loopDepth);
        Enter(code, stream, scope);
        try { return f(); }
        finally { (_code, _stream, _scope, _returnType, _loopDepth) = saved; }
    }

    private void BindStreamBody(StreamSymbol sym, object? unused)
    {
        var d = sym.Syntax!;
        var root = _fieldScopes[sym];
        if (d.Kind != StreamKind.Filter)
        {
            sym.Body = WithCode(CodeKind.Composite, sym, new Scope(root), () => BindBlock(d.Body!, newScope: false));
            return;
        }
        var f = d.Filter!;
        var fieldScope = new Scope(root);
        _fieldScopes[sym] = fieldScope;
        WithCode(CodeKind.FieldInit, sym, fieldScope, () =>
        {
            foreach (var fd in f.Fields)
                foreach (var decl in BindVarDecl(fd, VarKind.Field))
                {
                    decl.Symbol.Index = sym.Fields.Count;
                    sym.Fields.Add(decl.Symbol);
                    sym.FieldDecls.Add(decl);
                }
            return 0;
        });
        var fns = f.Functions.Select(fn => (fn, sym: DeclareFunction(fn))).ToList();
        foreach (var (fn, fsym) in fns)
        {
            if (sym.Functions.Any(x => x.Name == fn.Name)) throw fn.Span.Error($"{sym.Name} has two functions named {fn.Name}");
            sym.Functions.Add(fsym);
        }
        foreach (var (fn, fsym) in fns)
            WithCode(CodeKind.Helper, sym, fieldScope, () => { BindFunctionBody(fsym, fn, sym); return 0; });
        if (f.Init is not null) sym.Init = WithCode(CodeKind.Init, sym, new Scope(fieldScope), () => BindBlock(f.Init, newScope: false));
        if (f.Prework is not null) sym.Prework = WithCode(CodeKind.Prework, sym, new Scope(fieldScope), () => BindWork(f.Prework));
        if (f.Work is null) throw f.Span.Error($"filter {sym.Name} has no work function");
        sym.Work = WithCode(CodeKind.Work, sym, new Scope(fieldScope), () => BindWork(f.Work));
        CheckRates(sym);
        StateAnalysis.Analyze(sym);
    }

    private Scope FilterScope(StreamSymbol? filter) => filter is null ? new Scope(null) : _fieldScopes[filter];

    private WorkSymbol BindWork(WorkDecl w)
    {
        var body = BindBlock(w.Body, newScope: false);
        return new WorkSymbol { Push = BindRate(w.Push), Pop = BindRate(w.Pop), Peek = BindRate(w.Peek), Body = body, Span = w.Span };
    }

    private BRate? BindRate(RateSyntax? r)
    {
        if (r is null) return null;
        BExpr? B(Expr? e) => e is null ? null : Coerce(BindExpr(e), SType.Int, e.Span);
        var min = B(r.Min);
        var avg = ReferenceEquals(r.Average, r.Min) ? min : B(r.Average);
        var max = ReferenceEquals(r.Max, r.Min) ? min : B(r.Max);
        min = InlineConstantFields(min);
        avg = ReferenceEquals(r.Average, r.Min) ? min : InlineConstantFields(avg);
        max = ReferenceEquals(r.Max, r.Min) ? min : InlineConstantFields(max);
        return new BRate(min, avg, max, r.Span);
    }

    // A rate may name a field that is set once from constants and parameters (int size = 8; … pop size):
    // the field's initializer stands in for it. Any other field is an error: rates are fixed per instance.
    private BExpr? InlineConstantFields(BExpr? e)
    {
        switch (e)
        {
            case null: return null;
            case BVar { Symbol.Kind: VarKind.Field } v:
            {
                var decl = _stream?.FieldDecls.FirstOrDefault(d => d.Symbol == v.Symbol);
                if (decl?.Init is { } init && Refs.FirstField(init) is null && !IsWrittenAfterInit(v.Symbol)) return init;
                throw v.Span.Error($"a rate may depend on the stream's parameters and constant fields, not on the field {v.Symbol.Name}");
            }
            case BBinary b: return b with { Left = InlineConstantFields(b.Left)!, Right = InlineConstantFields(b.Right)! };
            case BUnary u: return u with { Operand = InlineConstantFields(u.Operand)! };
            case BConvert c: return c with { Operand = InlineConstantFields(c.Operand)! };
            default:
                if (Refs.FirstField(e) is { } field)
                    throw field.Span.Error($"a rate may depend on the stream's parameters and constant fields, not on the field {field.Symbol.Name}");
                return e;
        }
    }

    private bool IsWrittenAfterInit(VarSymbol field)
    {
        // Work is bound after the rates are read, so only init can be checked here; work writes are caught by
        // the state analysis, and a filter whose rate field changes in work would be wrong anyway.
        return _stream?.Init is { } init && BoundWalker.Nodes(init).Any(n =>
            n is BAssign a && Refs.Root(a.Target) == field || n is BCompoundAssign c && Refs.Root(c.Target) == field || n is BIncDec d && Refs.Root(d.Target) == field);
    }

    private void CheckRates(StreamSymbol sym)
    {
        var w = sym.Work!;
        if (sym.InputType == SType.Void && (w.Pop is not null || w.Peek is not null) && !IsZero(w.Pop) && !IsZero(w.Peek))
            throw w.Span.Error($"filter {sym.Name} has no input (void) but declares a pop or peek rate");
        if (sym.OutputType == SType.Void && w.Push is not null && !IsZero(w.Push))
            throw w.Span.Error($"filter {sym.Name} has no output (void) but declares a push rate");
    }

    private static bool IsZero(BRate? r) => r is { Min: BConst { Value: 0 }, Max: BConst { Value: 0 } };

    // ---- stream references (add / body / loop) ----
    private BStreamRef BindStreamRef(StreamExpr e)
    {
        if (e is AnonymousStreamExpr anon)
        {
            var sym = DeclareStream(anon.Decl, _scope);
            int declared = sym.Params.Count;
            var outer = (_code, _stream, _scope, _returnType, _loopDepth);
            try { BindStreamBody(sym, null); }
            finally { (_code, _stream, _scope, _returnType, _loopDepth) = outer; }
            // Captures are found while binding the body; each copies the outer variable's value at the add.
            var args = sym.Params.Skip(declared).Select(c => (BExpr)new BVar(c.CapturedFrom!, e.Span)).ToImmutableArray();
            return new BStreamRef(sym, args, null, e.Span);
        }
        var named = (NamedStreamExpr)e;
        if (named.Name == "Identity")
        {
            if (named.TypeArg is null) throw named.Span.Error("Identity needs an item type, as in Identity<float>");
            if (!named.Args.IsEmpty) throw named.Span.Error("Identity takes no arguments");
            return new BStreamRef(Identity(ResolveType(named.TypeArg), named.Span), [], null, named.Span);
        }
        if (named.Name is "FileReader" or "FileWriter")
            throw named.Span.Error($"{named.Name} is not supported: a Loom stream program makes its own input and prints its output");
        if (!_prog.Streams.TryGetValue(named.Name, out var target))
            throw named.Span.Error($"unknown stream '{named.Name}'");
        if (named.TypeArg is not null) throw named.Span.Error($"{named.Name} takes no type argument");
        int n = target.Syntax!.Params.Length;
        if (named.Args.Length != n)
            throw named.Span.Error($"{named.Name} takes {n} argument{(n == 1 ? "" : "s")} but {named.Args.Length} {(named.Args.Length == 1 ? "is" : "are")} given");
        var bound = ImmutableArray.CreateBuilder<BExpr>();
        for (int i = 0; i < n; i++)
        {
            var p = target.Params[i];
            var arg = named.Args[i] is ArrayInitExpr ai ? BindArrayInit(ai, p.Type) : BindExpr(named.Args[i]);
            bound.Add(Coerce(arg, p.Type, named.Args[i].Span, $"argument {p.Name} of {named.Name}"));
        }
        return new BStreamRef(target, bound.ToImmutable(), null, named.Span);
    }

    private StreamSymbol Identity(SType t, SourceSpan span)
    {
        if (_identities.TryGetValue(t.Name, out var s)) return s;
        if (t == SType.Void || t is ArrayType or PortalType) throw span.Error($"Identity<{t}> is not a stream type");
        var one = new BConst(1, SType.Int, span);
        var rate = new BRate(one, one, one, span);
        s = new StreamSymbol
        {
            Name = $"Identity<{t}>", Kind = StreamKind.Filter, Span = span, IsIdentity = true, InputType = t, OutputType = t,
            Work = new WorkSymbol
            {
                Push = rate, Pop = rate, Peek = rate, Span = span,
                Body = new BBlock([new BExprStmt(new BPush(new BPop(t, span), span), span)], span),
            },
        };
        return _identities[t.Name] = s;
    }
}
