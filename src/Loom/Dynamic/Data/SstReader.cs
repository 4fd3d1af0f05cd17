using System.Text;

namespace Loom.Dynamic.Data;

/// <summary>
/// Reads Stanford Sentiment Treebank trees, one per line: <c>node := "(" label " " word ")" | "(" label " " node " " node ")"</c>,
/// labels 0–4. Words are split on ASCII space only (a word may hold U+00A0). Any deviation is a
/// <see cref="DataFormatException"/> naming the file, line and column.
/// </summary>
public static class SstReader
{
    /// <summary>The first <paramref name="count"/> trees of the file (all when count ≤ 0).</summary>
    public static List<SstTree> ReadFile(string path, int count = 0)
    {
        var trees = new List<SstTree>();
        using var reader = new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true));
        string name = Path.GetFileName(path);
        int line = 0;
        try
        {
            while (reader.ReadLine() is { } text)
            {
                line++;
                if (text.Length == 0) continue;
                trees.Add(Parse(text, name, line));
                if (count > 0 && trees.Count == count) break;
            }
        }
        catch (DecoderFallbackException e)
        {
            throw new DataFormatException(name, line + 1, 0, $"not valid UTF-8 ({e.Message})");
        }
        if (trees.Count == 0) throw new DataFormatException(name, Math.Max(line, 1), 0, "no trees in the file");
        if (count > 0 && trees.Count < count)
            throw new DataFormatException(name, line, 0, $"the file holds {trees.Count} trees, fewer than the {count} asked for");
        return trees;
    }

    /// <summary>Parses one line; <paramref name="file"/> and <paramref name="line"/> only name the place in errors.</summary>
    public static SstTree Parse(string text, string file = "<string>", int line = 1)
    {
        var left = new List<int>(); var right = new List<int>();
        var words = new List<string?>(); var labels = new List<byte>();
        int pos = 0;
        DataFormatException Fail(string what) => new(file, line, pos + 1, what);

        void Expect(char c)
        {
            if (pos >= text.Length) throw Fail($"expected '{c}' but the line ends");
            if (text[pos] != c) throw Fail($"expected '{c}' but found '{text[pos]}'");
            pos++;
        }

        // Iterative on an explicit stack of open nodes, so a pathological nesting depth cannot overflow the thread's stack.
        var open = new Stack<(byte Label, int FirstChild, int Children)>();
        int lastDone = -1;
        while (true)
        {
            Expect('(');
            if (pos >= text.Length || text[pos] < '0' || text[pos] > '4') throw Fail("expected a label 0-4 after '('");
            byte label = (byte)(text[pos++] - '0');
            Expect(' ');
            if (pos < text.Length && text[pos] == '(')
            {
                open.Push((label, -1, 0));
                continue;
            }
            int start = pos;
            while (pos < text.Length && text[pos] != ')' && text[pos] != ' ' && text[pos] != '(') pos++;
            if (pos == start) throw Fail("expected a word or '(' after the label");
            string word = text[start..pos];
            Expect(')');
            left.Add(-1); right.Add(-1); words.Add(word); labels.Add(label);
            lastDone = left.Count - 1;
            // Close every node whose second child this completes.
            while (true)
            {
                if (open.Count == 0)
                {
                    if (pos != text.Length) throw Fail("unexpected text after the end of the tree");
                    return new SstTree(left.ToArray(), right.ToArray(), words.ToArray(), labels.ToArray(), line);
                }
                var top = open.Pop();
                if (top.Children == 0)
                {
                    open.Push((top.Label, lastDone, 1));
                    if (pos < text.Length && text[pos] == ')') throw Fail("only binary trees are supported: a node has a single child");
                    Expect(' ');
                    if (pos >= text.Length || text[pos] != '(') throw Fail("only binary trees are supported: expected a second child '('");
                    break;
                }
                if (pos < text.Length && text[pos] == ' ') throw Fail("only binary trees are supported: a node has more than two children");
                Expect(')');
                left.Add(top.FirstChild); right.Add(lastDone); words.Add(null); labels.Add(top.Label);
                lastDone = left.Count - 1;
            }
        }
    }
}
