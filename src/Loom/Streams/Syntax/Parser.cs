using System.Collections.Immutable;

namespace Loom.Streams.Syntax;

/// <summary>
/// Hand-written recursive-descent parser for StreamIt 2.x. Every error names the exact <c>file:line:column</c>
/// of the token where the parse went wrong and what was expected there.
/// </summary>
public sealed partial class Parser
{
    private static readonly HashSet<string> PrimitiveTypes = ["int", "float", "double", "boolean", "bit", "complex", "void"];
    private static readonly HashSet<string> StreamKinds = ["filter", "pipeline", "splitjoin", "feedbackloop"];

    private readonly List<Token> _t;
    private readonly HashSet<string> _typeNames;
    private int _p;

    private Parser(List<Token> tokens, HashSet<string> typeNames)
    {
        _t = tokens;
        _typeNames = typeNames;
    }

    /// <summary>Parses one program made of one or more files (as <c>strc</c> takes them).</summary>
    public static ProgramSyntax Parse(IReadOnlyList<SourceFile> files)
    {
        var tokenLists = files.Select(Lexer.Tokenize).ToList();
        var typeNames = new HashSet<string>();
        foreach (var tokens in tokenLists) CollectTypeNames(tokens, typeNames);
        var decls = ImmutableArray.CreateBuilder<Decl>();
        foreach (var tokens in tokenLists) decls.AddRange(new Parser(tokens, typeNames).ParseFile());
        return new ProgramSyntax(decls.ToImmutable(), [.. files]);
    }

    public static ProgramSyntax Parse(SourceFile file) => Parse([file]);

    // Struct and typedef names are needed before parsing to tell a cast "(T) x" from a parenthesized expression.
    private static void CollectTypeNames(List<Token> t, HashSet<string> names)
    {
        for (int i = 0; i + 1 < t.Count; i++)
        {
            if (t[i].Is("struct") && t[i + 1].Kind == TokenKind.Identifier) names.Add(t[i + 1].Text);
            if (t[i].Kind == TokenKind.Identifier && t[i].Text == "typedef")
                for (int j = i + 1; j + 1 < t.Count && !t[j].Is(";"); j++)
                    if (t[j].Kind == TokenKind.Identifier && t[j + 1].Is(";")) names.Add(t[j].Text);
        }
    }

    // ---- token helpers ----
    private Token Cur => _t[_p];
    private Token PeekAt(int k) => _t[Math.Min(_p + k, _t.Count - 1)];
    private Token Advance() => _t[_p < _t.Count - 1 ? _p++ : _p];
    private bool Is(string s) => Cur.Is(s);
    private bool IsIdent(string text) => Cur.Kind == TokenKind.Identifier && Cur.Text == text;

    private bool Accept(string s)
    {
        if (!Is(s)) return false;
        Advance();
        return true;
    }

    private Token Expect(string s, string context)
    {
        if (!Is(s)) throw Cur.Span.Error($"expected '{s}' {context}, found {Cur.Describe()}");
        return Advance();
    }

    private Token ExpectIdentifier(string what)
    {
        if (Cur.Kind != TokenKind.Identifier) throw Cur.Span.Error($"expected {what}, found {Cur.Describe()}");
        return Advance();
    }

    private SourceSpan From(Token start)
    {
        var last = _t[Math.Max(_p - 1, 0)];
        int end = Math.Max(last.Span.Start + last.Span.Length, start.Span.Start);
        return new SourceSpan(start.Span.File, start.Span.Start, end - start.Span.Start);
    }

    // ---- declarations ----
    private List<Decl> ParseFile()
    {
        var decls = new List<Decl>();
        while (Cur.Kind != TokenKind.End)
        {
            if (Accept(";")) continue;
            decls.Add(ParseTopLevel());
        }
        return decls;
    }

    private Decl ParseTopLevel()
    {
        var start = Cur;
        if (Is("struct")) return ParseStruct();
        if (IsIdent("typedef"))
        {
            Advance();
            var type = ParseType();
            var name = ExpectIdentifier("a name for the typedef");
            Expect(";", "after the typedef");
            return new TypedefDecl(type, name.Text, From(start));
        }
        if (Is("static")) return ParseStatic();
        if (Is("stateful") || IsStreamKind(Cur)) return ParseStreamDecl(named: true);
        if (!LooksLikeType(_p))
            throw Cur.Span.Error($"expected a stream, struct, typedef, static block or function declaration, found {Cur.Describe()}");
        int save = _p;
        ParseType();
        if (Is("->")) { _p = save; return ParseStreamDecl(named: true); }
        _p = save;
        return ParseFunction(isHandler: false);
    }

    private static bool IsStreamKind(Token t) => t.Kind == TokenKind.Keyword && StreamKinds.Contains(t.Text);

    private StructDecl ParseStruct()
    {
        var start = Advance();
        var name = ExpectIdentifier("a struct name");
        Expect("{", "to open the struct body");
        var fields = ImmutableArray.CreateBuilder<VarDeclStmt>();
        while (!Is("}"))
        {
            if (Cur.Kind == TokenKind.End) throw Cur.Span.Error($"struct {name.Text} is not closed: expected '}}'");
            fields.Add(ParseVarDecl());
            Expect(";", "after the struct field");
        }
        Advance();
        Accept(";");
        return new StructDecl(name.Text, fields.ToImmutable(), From(start));
    }

    private StaticDecl ParseStatic()
    {
        var start = Advance();
        if (Cur.Kind == TokenKind.Identifier) Advance(); // an optional name for the static block
        Expect("{", "to open the static block");
        var fields = ImmutableArray.CreateBuilder<VarDeclStmt>();
        BlockStmt? init = null;
        while (!Accept("}"))
        {
            if (Cur.Kind == TokenKind.End) throw Cur.Span.Error("static block is not closed: expected '}'");
            if (Is("init"))
            {
                if (init is not null) throw Cur.Span.Error("the static block already has an init");
                Advance();
                init = ParseBlock();
                continue;
            }
            fields.Add(ParseVarDecl());
            Expect(";", "after the global declaration");
        }
        return new StaticDecl(fields.ToImmutable(), init, From(start));
    }

    private FunctionDecl ParseFunction(bool isHandler)
    {
        var start = Cur;
        TypeSyntax ret;
        if (isHandler) { Advance(); ret = new NamedTypeSyntax("void", start.Span); }
        else ret = ParseType();
        var name = ExpectIdentifier("a function name");
        var ps = ParseParams(required: true);
        var body = ParseBlock();
        return new FunctionDecl(ret, name.Text, ps, body, isHandler, From(start));
    }

    private ImmutableArray<Param> ParseParams(bool required)
    {
        if (!Is("("))
        {
            if (required) throw Cur.Span.Error($"expected '(' to open the parameter list, found {Cur.Describe()}");
            return [];
        }
        Advance();
        var ps = ImmutableArray.CreateBuilder<Param>();
        if (!Is(")"))
            do
            {
                var start = Cur;
                var type = ParseType();
                var name = ExpectIdentifier("a parameter name");
                ps.Add(new Param(type, name.Text, From(start)));
            } while (Accept(","));
        Expect(")", "to close the parameter list");
        return ps.ToImmutable();
    }

    /// <summary>
    /// <c>[stateful] [In-&gt;Out] [stateful] kind [Name] [(params)] { … }</c>. Named at top level; anonymous
    /// (no name) after add/body/loop.
    /// </summary>
    private StreamDecl ParseStreamDecl(bool named)
    {
        var start = Cur;
        bool stateful = Accept("stateful");
        StreamTypeSyntax? type = null;
        if (!IsStreamKind(Cur))
        {
            var tStart = Cur;
            var input = ParseType();
            Expect("->", "between the input and output types of the stream");
            var output = ParseType();
            type = new StreamTypeSyntax(input, output, From(tStart));
            stateful |= Accept("stateful");
        }
        if (!IsStreamKind(Cur)) throw Cur.Span.Error($"expected filter, pipeline, splitjoin or feedbackloop, found {Cur.Describe()}");
        var kindToken = Advance();
        var kind = kindToken.Text switch
        {
            "filter" => StreamKind.Filter,
            "pipeline" => StreamKind.Pipeline,
            "splitjoin" => StreamKind.SplitJoin,
            _ => StreamKind.FeedbackLoop,
        };
        string? name = null;
        if (named) name = ExpectIdentifier($"a name for the {kindToken.Text}").Text;
        else if (Cur.Kind == TokenKind.Identifier && PeekAt(1).Is("{")) name = Advance().Text;
        var ps = named ? ParseParams(required: false) : [];
        if (kind == StreamKind.Filter)
        {
            var body = ParseFilterBody(name ?? "anonymous filter");
            return new StreamDecl(kind, type, name, ps, stateful, null, body, From(start));
        }
        if (stateful) throw kindToken.Span.Error($"only filters can be stateful, not a {kindToken.Text}");
        var block = ParseBlock();
        return new StreamDecl(kind, type, name, ps, false, block, null, From(start));
    }

    private FilterBody ParseFilterBody(string filterName)
    {
        var start = Expect("{", $"to open the body of filter {filterName}");
        var fields = ImmutableArray.CreateBuilder<VarDeclStmt>();
        var functions = ImmutableArray.CreateBuilder<FunctionDecl>();
        BlockStmt? init = null;
        WorkDecl? prework = null, work = null;
        while (!Accept("}"))
        {
            var t = Cur;
            if (t.Kind == TokenKind.End) throw t.Span.Error($"filter {filterName} is not closed: expected '}}'");
            if (Is("init"))
            {
                if (init is not null) throw t.Span.Error($"filter {filterName} has two init functions");
                Advance();
                init = ParseBlock();
            }
            else if (Is("work") || Is("prework"))
            {
                var w = ParseWork();
                if (w.IsPrework ? prework is not null : work is not null)
                    throw t.Span.Error($"filter {filterName} has two {t.Text} functions");
                if (w.IsPrework) prework = w; else work = w;
            }
            else if (IsIdent("handler")) functions.Add(ParseFunction(isHandler: true));
            else if (IsIdent("phase")) throw t.Span.Error("phased filters ('phase') are not supported; use prework and work");
            else if (LooksLikeType(_p) && PeekAfterType(_p) is { } k && At(k).Kind == TokenKind.Identifier && At(k + 1).Is("("))
                functions.Add(ParseFunction(isHandler: false));
            else
            {
                if (!LooksLikeDeclaration(_p))
                    throw t.Span.Error($"expected a field, init, prework, work or a helper function in filter {filterName}, found {t.Describe()}");
                fields.Add(ParseVarDecl());
                Expect(";", "after the field declaration");
            }
        }
        return new FilterBody(fields.ToImmutable(), init, prework, work, functions.ToImmutable(), From(start));
    }

    private WorkDecl ParseWork()
    {
        var start = Advance();
        bool pre = start.Text == "prework";
        RateSyntax? push = null, pop = null, peek = null;
        while (Is("push") || Is("pop") || Is("peek"))
        {
            var which = Advance();
            var rate = ParseRate();
            switch (which.Text)
            {
                case "push": if (push is not null) throw which.Span.Error("push rate declared twice"); push = rate; break;
                case "pop": if (pop is not null) throw which.Span.Error("pop rate declared twice"); pop = rate; break;
                default: if (peek is not null) throw which.Span.Error("peek rate declared twice"); peek = rate; break;
            }
        }
        if (!Is("{")) throw Cur.Span.Error($"expected push, pop, peek or '{{' after {start.Text}, found {Cur.Describe()}");
        var body = ParseBlock();
        return new WorkDecl(push, pop, peek, body, pre, From(start));
    }

    private RateSyntax ParseRate()
    {
        var start = Cur;
        if (Accept("*")) return new RateSyntax(null, null, null, false, From(start));
        if (Accept("["))
        {
            var parts = new List<Expr?>();
            do parts.Add(Accept("*") ? null : ParseExpr()); while (Accept(","));
            Expect("]", "to close the rate range");
            if (parts.Count is < 2 or > 3) throw start.Span.Error("a rate range is [min, max] or [min, average, max]");
            var span = From(start);
            return parts.Count == 2 ? new RateSyntax(parts[0], null, parts[1], true, span) : new RateSyntax(parts[0], parts[1], parts[2], true, span);
        }
        var e = ParseExpr();
        return new RateSyntax(e, e, e, false, From(start));
    }

    // ---- types ----

    /// <summary>Is there a type at token <paramref name="k"/> (a primitive, a name, or <c>portal&lt;X&gt;</c>)?</summary>
    private bool LooksLikeType(int k) => PeekAfterType(k) is not null;

    /// <summary>The index just after a type starting at <paramref name="k"/> (brackets skipped), or null.</summary>
    private int? PeekAfterType(int k)
    {
        var t = At(k);
        if (t.Kind == TokenKind.Keyword && PrimitiveTypes.Contains(t.Text)) k++;
        else if (t.Kind == TokenKind.Identifier && t.Text == "portal" && At(k + 1).Is("<"))
        {
            if (At(k + 2).Kind != TokenKind.Identifier || !At(k + 3).Is(">")) return null;
            k += 4;
        }
        else if (t.Kind == TokenKind.Identifier) k++;
        else return null;
        while (At(k).Is("["))
        {
            int depth = 0;
            for (; k < _t.Count - 1; k++)
            {
                if (_t[k].Is("[")) depth++;
                else if (_t[k].Is("]") && --depth == 0) break;
                else if (_t[k].Is(";") || _t[k].Is("{") || _t[k].Is("}")) return null;
            }
            if (k >= _t.Count - 1) return null;
            k++;
        }
        return k;
    }

    /// <summary>A declaration starts with a type followed by a name.</summary>
    private bool LooksLikeDeclaration(int k) => PeekAfterType(k) is { } after && At(after).Kind == TokenKind.Identifier;

    private Token At(int k) => _t[Math.Min(k, _t.Count - 1)];

    private TypeSyntax ParseType()
    {
        var start = Cur;
        TypeSyntax type;
        if (Cur.Kind == TokenKind.Keyword && PrimitiveTypes.Contains(Cur.Text)) type = new NamedTypeSyntax(Advance().Text, start.Span);
        else if (IsIdent("portal") && PeekAt(1).Is("<"))
        {
            Advance();
            Advance();
            var target = ExpectIdentifier("the stream type a portal points to");
            Expect(">", "to close portal<…>");
            type = new PortalTypeSyntax(target.Text, From(start));
        }
        else if (Cur.Kind == TokenKind.Identifier) type = new NamedTypeSyntax(Advance().Text, start.Span);
        else throw Cur.Span.Error($"expected a type, found {Cur.Describe()}");
        if (!Is("[")) return type;
        var sizes = ImmutableArray.CreateBuilder<Expr>();
        while (Accept("["))
        {
            sizes.Add(ParseExpr());
            Expect("]", "to close the array size");
        }
        return new ArrayTypeSyntax(type, sizes.ToImmutable(), From(start));
    }
}
