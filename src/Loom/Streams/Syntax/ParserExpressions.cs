using System.Collections.Immutable;

namespace Loom.Streams.Syntax;

public sealed partial class Parser
{
    private static readonly HashSet<string> AssignOps = ["=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=", ">>>="];

    // Binary operators by precedence level, lowest first (Java's table).
    private static readonly string[][] BinaryLevels =
    [
        ["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", ">", "<=", ">="], ["<<", ">>", ">>>"], ["+", "-"], ["*", "/", "%"],
    ];

    private Expr ParseExpr()
    {
        var start = Cur;
        var left = ParseConditional();
        if (Cur.Kind == TokenKind.Punct && AssignOps.Contains(Cur.Text))
        {
            var op = Advance();
            if (left is not (NameExpr or IndexExpr or FieldExpr))
                throw op.Span.Error($"the left side of '{op.Text}' must be a variable, an array element or a field");
            var right = Is("{") ? ParseArrayInit() : ParseExpr();
            return new AssignExpr(op.Text == "=" ? null : op.Text[..^1], left, right, From(start));
        }
        return left;
    }

    private Expr ParseConditional()
    {
        var start = Cur;
        var cond = ParseBinary(0);
        if (!Accept("?")) return cond;
        var a = ParseExpr();
        Expect(":", "in the conditional expression (a ? b : c)");
        var b = ParseConditional();
        return new ConditionalExpr(cond, a, b, From(start));
    }

    private Expr ParseBinary(int level)
    {
        if (level == BinaryLevels.Length) return ParseUnary();
        var start = Cur;
        var left = ParseBinary(level + 1);
        while (Cur.Kind == TokenKind.Punct && Array.IndexOf(BinaryLevels[level], Cur.Text) >= 0)
        {
            var op = Advance().Text;
            var right = ParseBinary(level + 1);
            left = new BinaryExpr(op, left, right, From(start));
        }
        return left;
    }

    private Expr ParseUnary()
    {
        var start = Cur;
        if (Cur.Kind == TokenKind.Punct)
            switch (Cur.Text)
            {
                case "-" or "+" or "!" or "~":
                {
                    var op = Advance().Text;
                    var operand = ParseUnary();
                    // Fold "-literal" so that -2147483648 is a valid int.
                    if (op == "-" && operand is IntLiteral lit) return new IntLiteral(-lit.Value, From(start));
                    if (op == "-" && operand is FloatLiteral f) return f with { Value = -f.Value, Text = "-" + f.Text, Span = From(start) };
                    return new UnaryExpr(op, operand, From(start));
                }
                case "++" or "--":
                {
                    var op = Advance().Text;
                    var target = ParseUnary();
                    return new IncDecExpr(target, op == "++", true, From(start));
                }
                case "(" when IsCast():
                {
                    Advance();
                    var type = ParseType();
                    Expect(")", "to close the cast");
                    var operand = ParseUnary();
                    return new CastExpr(type, operand, From(start));
                }
            }
        return ParsePostfix();
    }

    // "(" type ")" is a cast when the type is a primitive, or a struct/typedef name followed by something that
    // can start an operand (so "(a) - b" stays a subtraction when a is a variable).
    private bool IsCast()
    {
        var t = PeekAt(1);
        if (t.Kind == TokenKind.Keyword && PrimitiveTypes.Contains(t.Text)) return PeekAfterType(_p + 1) is { } k && At(k).Is(")");
        if (t.Kind == TokenKind.Identifier && _typeNames.Contains(t.Text)) return PeekAfterType(_p + 1) is { } k2 && At(k2).Is(")");
        return false;
    }

    private Expr ParsePostfix()
    {
        var start = Cur;
        var e = ParsePrimary();
        while (true)
        {
            if (Accept("["))
            {
                var index = ParseExpr();
                Expect("]", "to close the array index");
                e = new IndexExpr(e, index, From(start));
            }
            else if (Accept("."))
            {
                var name = ExpectIdentifier("a field name after '.'");
                if (Is("(")) e = ParseMessage(e, name.Text, start);
                else e = new FieldExpr(e, name.Text, From(start));
            }
            else if (Is("++") || Is("--"))
            {
                var op = Advance().Text;
                e = new IncDecExpr(e, op == "++", false, From(start));
            }
            else return e;
        }
    }

    private MessageExpr ParseMessage(Expr portal, string handler, Token start)
    {
        var args = ParseArgs("the message");
        Expr? min = null, max = null;
        if (Accept("["))
        {
            min = ParseExpr();
            max = Accept(":") ? ParseExpr() : min;
            Expect("]", "to close the message latency");
        }
        return new MessageExpr(portal, handler, args, min, max, From(start));
    }

    private ImmutableArray<Expr> ParseArgs(string what)
    {
        Expect("(", $"to open the arguments of {what}");
        var args = ImmutableArray.CreateBuilder<Expr>();
        if (!Is(")"))
            do args.Add(ParseExpr()); while (Accept(","));
        Expect(")", $"to close the arguments of {what}");
        return args.ToImmutable();
    }

    private Expr ParsePrimary()
    {
        var t = Cur;
        switch (t.Kind)
        {
            case TokenKind.IntLiteral: Advance(); return new IntLiteral(t.IntValue, t.Span);
            case TokenKind.FloatLiteral: Advance(); return new FloatLiteral(t.FloatValue, t.IsDouble, t.Text, t.Span);
            case TokenKind.StringLiteral: Advance(); return new StringLiteral(t.StringValue!, t.Span);
            case TokenKind.CharLiteral: Advance(); return new IntLiteral(t.IntValue, t.Span);
            case TokenKind.Identifier:
                Advance();
                if (Is("(")) return new CallExpr(t.Text, ParseArgs(t.Text), From(t));
                return new NameExpr(t.Text, t.Span);
            case TokenKind.Keyword when t.Text is "true" or "false":
                Advance();
                return new BoolLiteral(t.Text == "true", t.Span);
            case TokenKind.Keyword when t.Text is "push" or "pop" or "peek":
                Advance();
                return new CallExpr(t.Text, ParseArgs(t.Text), From(t));
            case TokenKind.Punct when t.Text == "(":
            {
                Advance();
                var e = ParseExpr();
                Expect(")", "to close the parenthesis");
                return e;
            }
            case TokenKind.Punct when t.Text == "{":
                return ParseArrayInit();
        }
        throw t.Span.Error($"expected an expression, found {t.Describe()}");
    }
}
