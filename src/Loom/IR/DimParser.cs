namespace Loom.IR;

/// <summary>Recursive-descent parser for the text form of <see cref="Dim"/>.</summary>
internal sealed class DimParser(string text)
{
    private int _pos;

    public Dim ParseAll()
    {
        var d = Sum();
        Skip();
        if (_pos != text.Length) throw Error("unexpected text");
        return d;
    }

    private Dim Sum()
    {
        var d = Product();
        while (true)
        {
            Skip();
            if (Eat('+')) d += Product();
            else if (Eat('-')) d -= Product();
            else return d;
        }
    }

    private Dim Product()
    {
        var d = Unary();
        while (true)
        {
            Skip();
            if (Eat('*')) d *= Unary();
            else if (Eat('/')) d = Dim.FloorDiv(d, Unary());
            else if (Eat('%')) d = Dim.Mod(d, Unary());
            else return d;
        }
    }

    private Dim Unary()
    {
        Skip();
        if (Eat('-')) return -Unary();
        if (Eat('('))
        {
            var d = Sum();
            Skip();
            if (!Eat(')')) throw Error("expected ')'");
            return d;
        }
        if (_pos < text.Length && char.IsDigit(text[_pos]))
        {
            int start = _pos;
            while (_pos < text.Length && char.IsDigit(text[_pos])) _pos++;
            return Dim.Of(long.Parse(text.AsSpan(start, _pos - start), System.Globalization.CultureInfo.InvariantCulture));
        }
        if (Eat('`'))
        {
            int end = text.IndexOf('`', _pos);
            if (end < 0) throw Error("unterminated `name`");
            var name = text[_pos..end];
            _pos = end + 1;
            return Dim.Symbol(name);
        }
        if (_pos < text.Length && (char.IsLetter(text[_pos]) || text[_pos] == '_'))
        {
            int start = _pos;
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] is '_' or '.' or ':')) _pos++;
            var name = text[start.._pos];
            Skip();
            if ((name is "max" or "min") && Eat('('))
            {
                var a = Sum(); Skip();
                if (!Eat(',')) throw Error("expected ','");
                var b = Sum(); Skip();
                if (!Eat(')')) throw Error("expected ')'");
                return name == "max" ? Dim.Max(a, b) : Dim.Min(a, b);
            }
            return Dim.Symbol(name);
        }
        throw Error("expected a number, a symbol or '('");
    }

    private void Skip() { while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++; }

    private bool Eat(char c)
    {
        if (_pos < text.Length && text[_pos] == c) { _pos++; return true; }
        return false;
    }

    private ShapeException Error(string what) => new($"cannot parse dimension '{text}' at {_pos}: {what}");
}
