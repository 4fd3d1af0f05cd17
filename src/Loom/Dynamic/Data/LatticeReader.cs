namespace Loom.Dynamic.Data;

/// <summary>
/// Reads ED-Batch's lattice files: <c>N</c>, then per lattice <c>L</c>, L tags, and L node lines
/// <c>k f_1 x_1 … f_k x_k</c> (incoming arcs from earlier nodes). Tokens are whitespace-separated integers
/// (as ED-Batch reads them), but every error names the line and column where the bad token is.
/// Tags and ids are reduced modulo <paramref name="modulo"/> (ED-Batch's <c>MAX_VOCAB_SIZE</c> = 256) when it is positive.
/// </summary>
public static class LatticeReader
{
    public static List<Lattice> ReadFile(string path, int count = 0, int modulo = 256)
        => Parse(File.ReadAllText(path), Path.GetFileName(path), count, modulo);

    public static List<Lattice> Parse(string text, string file, int count = 0, int modulo = 256)
    {
        var t = new Tokens(text, file);
        int n = t.Int("the number of lattices", min: 1);
        if (count > 0 && count < n) n = count;
        var result = new List<Lattice>(n);
        for (int l = 0; l < n; l++)
        {
            int startLine = t.NextLine;
            int nodes = t.Int($"the node count of lattice {l + 1}", min: 1);
            var tags = new int[nodes];
            for (int i = 0; i < nodes; i++) tags[i] = Reduce(t.Int($"tag {i} of lattice {l + 1}", min: 0), modulo);
            var start = new int[nodes + 1];
            var from = new List<int>(); var token = new List<int>();
            for (int i = 0; i < nodes; i++)
            {
                int k = t.Int($"the arc count of node {i} of lattice {l + 1}", min: 0);
                if (i == 0 && k != 0) throw t.Fail($"node 0 of lattice {l + 1} is the start node and cannot have incoming arcs");
                if (i > 0 && k == 0) throw t.Fail($"node {i} of lattice {l + 1} has no incoming arc, so it is unreachable");
                for (int a = 0; a < k; a++)
                {
                    int f = t.Int($"the source of arc {a + 1} into node {i} of lattice {l + 1}", min: 0);
                    if (f >= i) throw t.Fail($"an arc into node {i} of lattice {l + 1} comes from node {f}; arcs must come from earlier nodes");
                    from.Add(f);
                    token.Add(Reduce(t.Int($"the token of arc {a + 1} into node {i} of lattice {l + 1}", min: 0), modulo));
                }
                start[i + 1] = from.Count;
            }
            result.Add(new Lattice(tags, start, from.ToArray(), token.ToArray(), startLine));
        }
        return result;
    }

    private static int Reduce(int v, int modulo) => modulo > 0 ? v % modulo : v;

    /// <summary>Whitespace-separated integer tokens with their line and column.</summary>
    private sealed class Tokens(string text, string file)
    {
        private int _pos, _line = 1, _lineStart;
        private int _tokLine = 1, _tokCol;

        /// <summary>The line of the next token.</summary>
        public int NextLine { get { SkipSpace(); return _line; } }

        public DataFormatException Fail(string what) => new(file, _tokLine, _tokCol, what);

        public int Int(string what, int min)
        {
            SkipSpace();
            // At the end of the file, name the line of the last token read rather than the empty line after it.
            if (_pos >= text.Length) throw new DataFormatException(file, _tokLine, 0, $"the file ends where {what} should be");
            _tokLine = _line;
            _tokCol = _pos - _lineStart + 1;
            int s = _pos;
            while (_pos < text.Length && !char.IsWhiteSpace(text[_pos])) _pos++;
            var tok = text.AsSpan(s, _pos - s);
            if (!int.TryParse(tok, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int v))
                throw Fail($"expected {what} but found '{tok}'");
            if (v < min) throw Fail($"{what} is {v}, below {min}");
            return v;
        }

        private void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                if (text[_pos] == '\n') { _line++; _lineStart = _pos + 1; }
                _pos++;
            }
        }
    }
}
