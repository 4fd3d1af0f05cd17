using System.Collections.Immutable;
using Loom.Streams.Syntax;

namespace Loom.Streams.Semantics;

/// <summary>What kind of code is being bound: decides which statements and calls are allowed.</summary>
internal enum CodeKind { Static, Composite, FieldInit, Init, Work, Prework, Helper }

/// <summary>
/// Resolves names and types of a parsed program and checks them, producing the bound tree. The first error
/// is thrown as a <see cref="StreamException"/> with its <c>file:line:column</c>.
/// </summary>
public sealed partial class Binder
{
    private readonly BoundProgram _prog;
    private readonly Dictionary<string, StreamDecl> _streamDecls = [];
    private readonly Dictionary<string, TypedefDecl> _typedefs = [];
    private readonly Dictionary<string, SType> _resolvedTypedefs = [];
    private readonly Dictionary<string, StructDecl> _structDecls = [];
    private readonly Dictionary<string, VarSymbol> _globals = [];
    private readonly Dictionary<string, StreamSymbol> _identities = [];

    // The code being bound.
    private Scope _scope = new(null);
    private StreamSymbol? _stream;
    private CodeKind _code;
    private SType _returnType = SType.Void;
    private int _loopDepth;

    private Binder(ProgramSyntax syntax) => _prog = new BoundProgram { Syntax = syntax };

    public static BoundProgram Bind(ProgramSyntax syntax)
    {
        var b = new Binder(syntax);
        b.Run();
        return b._prog;
    }

    private void Run()
    {
        foreach (var d in _prog.Syntax.Declarations)
            switch (d)
            {
                case StructDecl s:
                    if (_structDecls.ContainsKey(s.Name) || s.Name == "complex") throw s.Span.Error($"struct {s.Name} is declared twice");
                    _structDecls[s.Name] = s;
                    break;
                case TypedefDecl t:
                    if (_typedefs.ContainsKey(t.Name)) throw t.Span.Error($"typedef {t.Name} is declared twice");
                    _typedefs[t.Name] = t;
                    break;
                case StreamDecl sd:
                    if (_streamDecls.ContainsKey(sd.Name!)) throw sd.Span.Error($"stream {sd.Name} is declared twice (first at {_streamDecls[sd.Name!].Span})");
                    _streamDecls[sd.Name!] = sd;
                    break;
            }
        foreach (var s in _structDecls.Values) ResolveStruct(s.Name, s.Span, []);
        foreach (var d in _prog.Syntax.Declarations.OfType<StaticDecl>()) BindStatic(d);
        var functions = _prog.Syntax.Declarations.OfType<FunctionDecl>().ToList();
        foreach (var f in functions)
        {
            if (_prog.Functions.ContainsKey(f.Name)) throw f.Span.Error($"function {f.Name} is declared twice");
            _prog.Functions[f.Name] = DeclareFunction(f);
        }
        foreach (var f in functions) BindFunctionBody(_prog.Functions[f.Name], f, null);
        foreach (var sd in _streamDecls.Values) _prog.Streams[sd.Name!] = DeclareStream(sd, null);
        foreach (var sd in _streamDecls.Values) BindStreamBody(_prog.Streams[sd.Name!], null);
    }

    // ---- types ----
    private SType ResolveStruct(string name, Syntax.SourceSpan span, HashSet<string> resolving)
    {
        if (_prog.Structs.TryGetValue(name, out var done)) return done;
        var decl = _structDecls[name];
        if (!resolving.Add(name)) throw span.Error($"struct {name} contains itself");
        var type = new StructType(name, []);
        var fields = ImmutableArray.CreateBuilder<(string, SType)>();
        foreach (var f in decl.Fields)
            foreach (var v in f.Vars)
            {
                var (t, sizes) = ResolveTypeWithSizes(f.Type, v.ExtraSizes, resolving);
                if (sizes.Length > 0 || t is ArrayType) throw v.Span.Error($"struct {name}: array fields are not supported (field {v.Name})");
                if (fields.Any(x => x.Item1 == v.Name)) throw v.Span.Error($"struct {name} has two fields named {v.Name}");
                fields.Add((v.Name, t));
            }
        type.Fields = fields.ToImmutable();
        _prog.Structs[name] = type;
        resolving.Remove(name);
        return type;
    }

    private SType ResolveType(TypeSyntax t) => ResolveTypeWithSizes(t, [], []).Type;

    /// <summary>The type and (for arrays) the bound size expressions, outermost first.</summary>
    private (SType Type, ImmutableArray<BExpr> Sizes) ResolveTypeWithSizes(TypeSyntax t, ImmutableArray<Expr> extraSizes, HashSet<string> resolving)
    {
        switch (t)
        {
            case NamedTypeSyntax n when extraSizes.IsEmpty: return (ResolveName(n, resolving), []);
            case NamedTypeSyntax n: return MakeArray(ResolveName(n, resolving), [], extraSizes);
            case ArrayTypeSyntax a:
            {
                var (elem, inner) = ResolveTypeWithSizes(a.Element, [], resolving);
                return MakeArray(elem, inner, [.. a.Sizes, .. extraSizes]);
            }
            case PortalTypeSyntax p: return (new PortalType(p.Target), []);
            default: throw t.Span.Error("unknown type");
        }
    }

    private (SType, ImmutableArray<BExpr>) MakeArray(SType elem, ImmutableArray<BExpr> innerSizes, ImmutableArray<Expr> sizes)
    {
        var bound = sizes.Select(s => Coerce(BindExpr(s), SType.Int, s.Span)).ToImmutableArray();
        if (elem is ArrayType inner) return (new ArrayType(inner.Element, inner.Rank + bound.Length), [.. bound, .. innerSizes]);
        if (elem == SType.Void || elem == SType.String) throw sizes[0].Span.Error($"cannot make an array of {elem}");
        return (new ArrayType(elem, bound.Length), bound);
    }

    private SType ResolveName(NamedTypeSyntax n, HashSet<string> resolving)
    {
        switch (n.Name)
        {
            case "int": return SType.Int;
            case "float": return SType.Float;
            case "double": return SType.Double;
            case "boolean": return SType.Boolean;
            case "bit": return SType.Bit;
            case "complex": return SType.Complex;
            case "void": return SType.Void;
        }
        if (_structDecls.ContainsKey(n.Name)) return ResolveStruct(n.Name, n.Span, resolving);
        if (_typedefs.TryGetValue(n.Name, out var td))
        {
            if (_resolvedTypedefs.TryGetValue(n.Name, out var r)) return r;
            if (!resolving.Add("typedef " + n.Name)) throw n.Span.Error($"typedef {n.Name} refers to itself");
            var (t, sizes) = ResolveTypeWithSizes(td.Type, [], resolving);
            if (!sizes.IsEmpty) throw td.Span.Error($"typedef {n.Name}: array typedefs are not supported");
            resolving.Remove("typedef " + n.Name);
            return _resolvedTypedefs[n.Name] = t;
        }
        throw n.Span.Error($"unknown type '{n.Name}'");
    }

    // ---- globals and functions ----
    private void BindStatic(StaticDecl d)
    {
        Enter(CodeKind.Static, null, new Scope(null));
        foreach (var f in d.Fields)
            foreach (var decl in BindVarDecl(f, VarKind.Global))
            {
                _globals[decl.Symbol.Name] = decl.Symbol;
                decl.Symbol.Index = _prog.Globals.Count;
                _prog.Globals.Add(decl.Symbol);
                _prog.StaticCode.Add(decl);
            }
        if (d.Init is not null) _prog.StaticCode.Add(BindBlock(d.Init, newScope: true));
    }

    private FunctionSymbol DeclareFunction(FunctionDecl f)
    {
        var ret = ResolveType(f.ReturnType);
        var ps = f.Params.Select((p, i) => new VarSymbol(p.Name, ResolveType(p.Type), VarKind.Local, p.Span) { Index = i }).ToImmutableArray();
        CheckDistinct(f.Params);
        return new FunctionSymbol(f.Name, ret, ps, f.Span) { IsHandler = f.IsHandler };
    }

    private void BindFunctionBody(FunctionSymbol fn, FunctionDecl f, StreamSymbol? filter)
    {
        var scope = FilterScope(filter);
        Enter(CodeKind.Helper, filter, new Scope(scope));
        foreach (var p in fn.Parameters) _scope.Vars[p.Name] = p;
        _returnType = fn.ReturnType;
        fn.Body = BindBlock(f.Body, newScope: false);
        if (fn.ReturnType != SType.Void && !AlwaysReturns(fn.Body))
            throw f.Span.Error($"function {f.Name} can end without returning a {fn.ReturnType}");
    }

    private static bool AlwaysReturns(BStmt s) => s switch
    {
        BReturn => true,
        BBlock b => b.Statements.Any(AlwaysReturns),
        BIf i => i.Else is not null && AlwaysReturns(i.Then) && AlwaysReturns(i.Else),
        BLoop l => l.Condition is null && !ContainsBreak(l.Body),
        _ => false,
    };

    private static bool ContainsBreak(BStmt s) => s switch
    {
        BBreak => true,
        BBlock b => b.Statements.Any(ContainsBreak),
        BIf i => ContainsBreak(i.Then) || (i.Else is not null && ContainsBreak(i.Else)),
        _ => false,
    };

    private static void CheckDistinct(ImmutableArray<Param> ps)
    {
        var seen = new HashSet<string>();
        foreach (var p in ps)
            if (!seen.Add(p.Name)) throw p.Span.Error($"two parameters are named {p.Name}");
    }

    private void Enter(CodeKind code, StreamSymbol? stream, Scope scope)
    {
        _code = code;
        _stream = stream;
        _scope = scope;
        _returnType = SType.Void;
        _loopDepth = 0;
    }
}
