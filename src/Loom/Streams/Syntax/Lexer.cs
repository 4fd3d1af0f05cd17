using System.Globalization;
using System.Text;

namespace Loom.Streams.Syntax;

/// <summary>
/// Splits StreamIt source into tokens. Comments are <c>//</c> and <c>/* */</c>. Integer literals are decimal
/// (a leading zero is still decimal, as in the StreamIt frontend) or hex; hex literals up to 2^32-1 wrap to
/// 32 bits like Java's. Real literals are float unless they end in <c>d</c>.
/// </summary>
public sealed class Lexer
{
    private static readonly HashSet<string> Keywords =
    [
        "filter", "pipeline", "splitjoin", "feedbackloop", "stateful", "struct", "typedef", "static",
        "void", "int", "float", "double", "boolean", "bit", "complex", "init", "prework", "work",
        "add", "split", "join", "body", "loop", "enqueue", "if", "else", "for", "while", "do",
        "break", "continue", "return", "true", "false", "push", "pop", "peek",
    ];

    // Longest first, so that ">>>=" wins over ">>" and ">".
    private static readonly string[] Puncts =
    [
        ">>>=", "<<=", ">>=", ">>>", "->", "++", "--", "&&", "||", "==", "!=", "<=", ">=", "<<", ">>",
        "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
        "{", "}", "(", ")", "[", "]", ";", ",", ".", "=", "<", ">", "+", "-", "*", "/", "%", "!", "~",
        "&", "|", "^", "?", ":",
    ];

    private readonly SourceFile _file;
    private readonly string _s;
    private int _pos;

    private Lexer(SourceFile file)
    {
        _file = file;
        _s = file.Text;
    }

    public static List<Token> Tokenize(SourceFile file)
    {
        var lexer = new Lexer(file);
        var tokens = new List<Token>();
        while (true)
        {
            var t = lexer.Next();
            tokens.Add(t);
            if (t.Kind == TokenKind.End) return tokens;
        }
    }

    private SourceSpan Span(int start) => new(_file, start, _pos - start);

    private Token Next()
    {
        SkipTrivia();
        int start = _pos;
        if (_pos >= _s.Length) return new Token(TokenKind.End, "", new SourceSpan(_file, _s.Length, 0));
        char c = _s[_pos];
        if (char.IsAsciiLetter(c) || c == '_')
        {
            while (_pos < _s.Length && (char.IsAsciiLetterOrDigit(_s[_pos]) || _s[_pos] == '_')) _pos++;
            var text = _s[start.._pos];
            return new Token(Keywords.Contains(text) ? TokenKind.Keyword : TokenKind.Identifier, text, Span(start));
        }
        if (char.IsAsciiDigit(c) || (c == '.' && _pos + 1 < _s.Length && char.IsAsciiDigit(_s[_pos + 1]))) return Number(start);
        if (c == '"') return StringLiteral(start);
        if (c == '\'') return CharLiteral(start);
        foreach (var p in Puncts)
            if (string.CompareOrdinal(_s, _pos, p, 0, p.Length) == 0)
            {
                _pos += p.Length;
                return new Token(TokenKind.Punct, p, Span(start));
            }
        _pos++;
        throw Span(start).Error($"unexpected character '{Printable(c)}'");
    }

    private static string Printable(char c) => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString();

    private void SkipTrivia()
    {
        while (_pos < _s.Length)
        {
            char c = _s[_pos];
            if (char.IsWhiteSpace(c)) { _pos++; continue; }
            if (c == '/' && _pos + 1 < _s.Length && _s[_pos + 1] == '/')
            {
                while (_pos < _s.Length && _s[_pos] != '\n') _pos++;
                continue;
            }
            if (c == '/' && _pos + 1 < _s.Length && _s[_pos + 1] == '*')
            {
                int start = _pos;
                int end = _s.IndexOf("*/", _pos + 2, StringComparison.Ordinal);
                if (end < 0) throw new SourceSpan(_file, start, 2).Error("comment is not closed ('/*' without '*/')");
                _pos = end + 2;
                continue;
            }
            return;
        }
    }

    private Token Number(int start)
    {
        if (_s[_pos] == '0' && _pos + 1 < _s.Length && (_s[_pos + 1] == 'x' || _s[_pos + 1] == 'X'))
        {
            _pos += 2;
            int digits = _pos;
            while (_pos < _s.Length && char.IsAsciiHexDigit(_s[_pos])) _pos++;
            var hex = _s[digits.._pos];
            if (hex.Length == 0) throw Span(start).Error("hex literal has no digits");
            if (_pos < _s.Length && (_s[_pos] == 'L' || _s[_pos] == 'l')) _pos++;
            RejectTrailingLetters(start);
            if (hex.TrimStart('0').Length > 8) throw Span(start).Error($"hex literal {_s[start.._pos]} does not fit in 32 bits");
            uint bits = uint.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            return new Token(TokenKind.IntLiteral, _s[start.._pos], Span(start)) { IntValue = unchecked((int)bits) };
        }
        bool real = false;
        while (_pos < _s.Length && char.IsAsciiDigit(_s[_pos])) _pos++;
        if (_pos < _s.Length && _s[_pos] == '.' && !(_pos + 1 < _s.Length && _s[_pos + 1] == '.'))
        {
            real = true;
            _pos++;
            while (_pos < _s.Length && char.IsAsciiDigit(_s[_pos])) _pos++;
        }
        if (_pos < _s.Length && (_s[_pos] == 'e' || _s[_pos] == 'E'))
        {
            int save = _pos;
            _pos++;
            if (_pos < _s.Length && (_s[_pos] == '+' || _s[_pos] == '-')) _pos++;
            if (_pos < _s.Length && char.IsAsciiDigit(_s[_pos]))
            {
                real = true;
                while (_pos < _s.Length && char.IsAsciiDigit(_s[_pos])) _pos++;
            }
            else _pos = save;
        }
        var body = _s[start.._pos];
        bool isDouble = false;
        if (_pos < _s.Length && (_s[_pos] is 'f' or 'F' or 'd' or 'D'))
        {
            isDouble = _s[_pos] is 'd' or 'D';
            real = true;
            _pos++;
        }
        RejectTrailingLetters(start);
        if (real)
        {
            double d = double.Parse(body, NumberStyles.Float, CultureInfo.InvariantCulture);
            return new Token(TokenKind.FloatLiteral, _s[start.._pos], Span(start)) { FloatValue = d, IsDouble = isDouble };
        }
        if (!long.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v > 2147483648L)
            throw Span(start).Error($"integer literal {body} is too large for int");
        return new Token(TokenKind.IntLiteral, body, Span(start)) { IntValue = v };
    }

    private void RejectTrailingLetters(int start)
    {
        if (_pos < _s.Length && (char.IsAsciiLetterOrDigit(_s[_pos]) || _s[_pos] == '_'))
        {
            while (_pos < _s.Length && (char.IsAsciiLetterOrDigit(_s[_pos]) || _s[_pos] == '_')) _pos++;
            throw Span(start).Error($"malformed number '{_s[start.._pos]}'");
        }
    }

    private Token StringLiteral(int start)
    {
        _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _s.Length || _s[_pos] == '\n') throw Span(start).Error("string literal is not closed");
            char c = _s[_pos++];
            if (c == '"') break;
            sb.Append(c == '\\' ? Escape(start) : c);
        }
        return new Token(TokenKind.StringLiteral, _s[start.._pos], Span(start)) { StringValue = sb.ToString() };
    }

    private Token CharLiteral(int start)
    {
        _pos++;
        if (_pos >= _s.Length) throw Span(start).Error("character literal is not closed");
        char c = _s[_pos++];
        if (c == '\\') c = Escape(start);
        if (_pos >= _s.Length || _s[_pos] != '\'') throw Span(start).Error("character literal is not closed");
        _pos++;
        return new Token(TokenKind.CharLiteral, _s[start.._pos], Span(start)) { StringValue = c.ToString(), IntValue = c };
    }

    private char Escape(int start)
    {
        if (_pos >= _s.Length) throw Span(start).Error("literal is not closed");
        char e = _s[_pos++];
        return e switch
        {
            'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', '\\' => '\\', '"' => '"', '\'' => '\'',
            _ => throw new SourceSpan(_file, _pos - 2, 2).Error($"unknown escape sequence '\\{Printable(e)}'"),
        };
    }
}
