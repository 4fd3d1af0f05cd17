using System.Collections.Immutable;

namespace Loom.Streams.Syntax;

public sealed partial class Parser
{
    private BlockStmt ParseBlock()
    {
        var start = Expect("{", "to open a block");
        var stmts = ImmutableArray.CreateBuilder<Stmt>();
        while (!Accept("}"))
        {
            if (Cur.Kind == TokenKind.End) throw start.Span.Error("block is not closed: expected '}' before the end of the file");
            stmts.Add(ParseStatement());
        }
        return new BlockStmt(stmts.ToImmutable(), From(start));
    }

    private Stmt ParseStatement()
    {
        var start = Cur;
        if (Is("{")) return ParseBlock();
        if (Accept(";")) return new EmptyStmt(start.Span);
        if (Cur.Kind == TokenKind.Keyword)
            switch (Cur.Text)
            {
                case "if":
                {
                    Advance();
                    Expect("(", "after 'if'");
                    var cond = ParseExpr();
                    Expect(")", "to close the if condition");
                    var then = ParseStatement();
                    var els = Accept("else") ? ParseStatement() : null;
                    return new IfStmt(cond, then, els, From(start));
                }
                case "for": return ParseFor();
                case "while":
                {
                    Advance();
                    Expect("(", "after 'while'");
                    var cond = ParseExpr();
                    Expect(")", "to close the while condition");
                    return new WhileStmt(cond, ParseStatement(), From(start));
                }
                case "do":
                {
                    Advance();
                    var body = ParseStatement();
                    Expect("while", "after the body of a do loop");
                    Expect("(", "after 'while'");
                    var cond = ParseExpr();
                    Expect(")", "to close the while condition");
                    Expect(";", "after do … while (…)");
                    return new DoWhileStmt(body, cond, From(start));
                }
                case "break": Advance(); Expect(";", "after 'break'"); return new BreakStmt(From(start));
                case "continue": Advance(); Expect(";", "after 'continue'"); return new ContinueStmt(From(start));
                case "return":
                {
                    Advance();
                    var value = Is(";") ? null : ParseExpr();
                    Expect(";", "after the return statement");
                    return new ReturnStmt(value, From(start));
                }
                case "add":
                {
                    Advance();
                    var stream = ParseStreamExpr("add");
                    var portals = ImmutableArray.CreateBuilder<Expr>();
                    if (IsIdent("to"))
                    {
                        Advance();
                        do portals.Add(ParseExpr()); while (Accept(","));
                    }
                    EndStreamStatement(stream);
                    return new AddStmt(stream, portals.ToImmutable(), From(start));
                }
                case "body":
                case "loop":
                {
                    var which = Advance();
                    var stream = ParseStreamExpr(which.Text);
                    EndStreamStatement(stream);
                    return which.Text == "body" ? new BodyStmt(stream, From(start)) : new LoopStmt(stream, From(start));
                }
                case "split":
                case "join":
                {
                    var which = Advance();
                    var spec = ParseSplitJoinSpec(which.Text);
                    Expect(";", $"after the {which.Text}ter");
                    return which.Text == "split" ? new SplitStmt(spec, From(start)) : new JoinStmt(spec, From(start));
                }
                case "enqueue":
                {
                    Advance();
                    var value = ParseExpr();
                    Expect(";", "after the enqueued value");
                    return new EnqueueStmt(value, From(start));
                }
                case "else": throw Cur.Span.Error("'else' without a matching 'if'");
            }
        if (LooksLikeDeclaration(_p))
        {
            var decl = ParseVarDecl();
            Expect(";", "after the declaration");
            return decl;
        }
        var e = ParseExpr();
        Expect(";", "after the statement");
        return new ExprStmt(e, From(start));
    }

    // An anonymous stream ends with '}', after which a ';' is optional; a named one needs the ';'.
    private void EndStreamStatement(StreamExpr stream)
    {
        if (stream is AnonymousStreamExpr) Accept(";");
        else Expect(";", "after the stream");
    }

    private ForStmt ParseFor()
    {
        var start = Advance();
        Expect("(", "after 'for'");
        Stmt? init = null;
        if (!Is(";"))
            init = LooksLikeDeclaration(_p) ? ParseVarDecl() : ParseExprList();
        Expect(";", "after the initializer of the for loop");
        var cond = Is(";") ? null : ParseExpr();
        Expect(";", "after the condition of the for loop");
        var update = Is(")") ? null : ParseExprList();
        Expect(")", "to close the for loop header");
        var body = ParseStatement();
        return new ForStmt(init, cond, update, body, From(start));
    }

    private Stmt ParseExprList()
    {
        var start = Cur;
        var list = ImmutableArray.CreateBuilder<Stmt>();
        do
        {
            var s = Cur;
            var e = ParseExpr();
            list.Add(new ExprStmt(e, From(s)));
        } while (Accept(","));
        return list.Count == 1 ? list[0] : new BlockStmt(list.ToImmutable(), From(start));
    }

    private VarDeclStmt ParseVarDecl()
    {
        var start = Cur;
        var type = ParseType();
        var vars = ImmutableArray.CreateBuilder<VarDeclarator>();
        do
        {
            var nameStart = Cur;
            var name = ExpectIdentifier("a variable name");
            var extra = ImmutableArray.CreateBuilder<Expr>();
            while (Accept("["))
            {
                extra.Add(ParseExpr());
                Expect("]", "to close the array size");
            }
            Expr? init = null;
            if (Accept("=")) init = Is("{") ? ParseArrayInit() : ParseExpr();
            vars.Add(new VarDeclarator(name.Text, extra.ToImmutable(), init, From(nameStart)));
        } while (Accept(","));
        return new VarDeclStmt(type, vars.ToImmutable(), From(start));
    }

    private ArrayInitExpr ParseArrayInit()
    {
        var start = Expect("{", "to open the array initializer");
        var elems = ImmutableArray.CreateBuilder<Expr>();
        if (!Is("}"))
            do
            {
                if (Is("}")) break; // a trailing comma
                elems.Add(Is("{") ? ParseArrayInit() : ParseExpr());
            } while (Accept(","));
        Expect("}", "to close the array initializer");
        return new ArrayInitExpr(elems.ToImmutable(), From(start));
    }

    private SplitJoinSpec ParseSplitJoinSpec(string what)
    {
        var start = Cur;
        if (Cur.Kind != TokenKind.Identifier || Cur.Text is not ("duplicate" or "roundrobin" or "null"))
            throw Cur.Span.Error($"expected duplicate or roundrobin after '{what}', found {Cur.Describe()}");
        var kindTok = Advance();
        var weights = ImmutableArray.CreateBuilder<Expr>();
        if (Accept("("))
        {
            if (!Is(")"))
                do weights.Add(ParseExpr()); while (Accept(","));
            Expect(")", $"to close the {kindTok.Text} weights");
        }
        var kind = kindTok.Text switch { "duplicate" => SplitJoinKind.Duplicate, "null" => SplitJoinKind.Null, _ => SplitJoinKind.RoundRobin };
        if (kind == SplitJoinKind.Duplicate && what == "join") throw kindTok.Span.Error("a joiner cannot be duplicate; use roundrobin");
        if (kind == SplitJoinKind.Duplicate && weights.Count > 0) throw kindTok.Span.Error("duplicate takes no weights");
        return new SplitJoinSpec(kind, weights.ToImmutable(), From(start));
    }

    private StreamExpr ParseStreamExpr(string after)
    {
        var start = Cur;
        if (LooksLikeAnonymousStream())
        {
            var decl = ParseStreamDecl(named: false);
            return new AnonymousStreamExpr(decl, From(start));
        }
        var name = ExpectIdentifier($"a stream after '{after}'");
        TypeSyntax? typeArg = null;
        if (Accept("<"))
        {
            typeArg = ParseType();
            Expect(">", "to close the type argument");
        }
        var args = ImmutableArray<Expr>.Empty;
        if (Accept("("))
        {
            var list = ImmutableArray.CreateBuilder<Expr>();
            if (!Is(")"))
                do list.Add(Is("{") ? ParseArrayInit() : ParseExpr()); while (Accept(","));
            Expect(")", "to close the stream's arguments");
            args = list.ToImmutable();
        }
        return new NamedStreamExpr(name.Text, typeArg, args, From(start));
    }

    private bool LooksLikeAnonymousStream()
    {
        if (Is("stateful") || IsStreamKind(Cur)) return true;
        return PeekAfterType(_p) is { } k && At(k).Is("->");
    }
}
