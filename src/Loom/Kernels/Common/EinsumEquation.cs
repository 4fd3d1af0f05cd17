namespace Loom.Kernels.Common;

/// <summary>
/// A parsed Einsum equation for given operand ranks: a label id per axis of every operand and of the
/// output. Letters get ids in ASCII order (A–Z are 0–25, a–z 26–51); the dims an ellipsis stands for get
/// ids from 52 on, aligned to the right so ellipses of different lengths broadcast like NumPy. Without
/// "->", the output is the ellipsis dims followed by the letters that occur exactly once, in ASCII order.
/// </summary>
internal sealed class EinsumEquation
{
    public const int EllipsisBase = 52;

    public required int[][] Operands { get; init; }
    public required int[] Output { get; init; }

    public static EinsumEquation Parse(string equation, IReadOnlyList<int> ranks, Func<string, Exception> fail)
    {
        var eq = equation.Replace(" ", "");
        int arrow = eq.IndexOf("->", StringComparison.Ordinal);
        var lhs = arrow < 0 ? eq : eq[..arrow];
        var terms = lhs.Split(',');
        if (terms.Length != ranks.Count) throw fail($"equation '{equation}' has {terms.Length} operand terms for {ranks.Count} inputs");
        var letters = terms.Select(t => Letters(t, fail)).ToArray();
        int ellipsisRank = 0;
        for (int i = 0; i < terms.Length; i++)
        {
            int extra = ranks[i] - letters[i].Count;
            if (extra < 0 || (extra > 0 && !terms[i].Contains("...", StringComparison.Ordinal)))
                throw fail($"term '{terms[i]}' does not fit input {i} of rank {ranks[i]}");
            ellipsisRank = Math.Max(ellipsisRank, extra);
        }
        var operands = new int[terms.Length][];
        for (int i = 0; i < terms.Length; i++)
            operands[i] = Expand(terms[i], ranks[i] - letters[i].Count, ellipsisRank, fail);
        int[] output;
        if (arrow >= 0)
        {
            var rhs = eq[(arrow + 2)..];
            output = Expand(rhs, rhs.Contains("...", StringComparison.Ordinal) ? ellipsisRank : 0, ellipsisRank, fail);
            if (output.Distinct().Count() != output.Length) throw fail($"output '{rhs}' repeats a label");
            var known = operands.SelectMany(o => o).ToHashSet();
            if (output.Any(l => !known.Contains(l))) throw fail($"output '{rhs}' has a label no input has");
        }
        else
        {
            var counts = operands.SelectMany(o => o).Where(l => l < EllipsisBase).GroupBy(l => l).Where(g => g.Count() == 1).Select(g => g.Key);
            output = [.. Enumerable.Range(EllipsisBase, ellipsisRank), .. counts.Order()];
        }
        return new EinsumEquation { Operands = operands, Output = output };
    }

    private static List<int> Letters(string term, Func<string, Exception> fail)
    {
        var t = term.Replace("...", "");
        if (term.Length - t.Length > 3) throw fail($"term '{term}' has more than one ellipsis");
        var r = new List<int>();
        foreach (char c in t)
        {
            if (c is >= 'A' and <= 'Z') r.Add(c - 'A');
            else if (c is >= 'a' and <= 'z') r.Add(c - 'a' + 26);
            else throw fail($"term '{term}' has the character '{c}'; only letters and '...' are allowed");
        }
        return r;
    }

    /// <summary>Label ids of one term, its ellipsis standing for the last <paramref name="count"/> of the <paramref name="total"/> ellipsis dims.</summary>
    private static int[] Expand(string term, int count, int total, Func<string, Exception> fail)
    {
        int at = term.IndexOf("...", StringComparison.Ordinal);
        var before = Letters(at < 0 ? term : term[..at], fail);
        var after = at < 0 ? [] : Letters(term[(at + 3)..], fail);
        return [.. before, .. Enumerable.Range(EllipsisBase + total - count, count), .. after];
    }
}
