using Loom.Streams.Execution;
using Loom.Streams.Graph;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

/// <summary>
/// Filters that only move items (FFT2's <c>FFTReorderSimple</c>: <c>push(peek(i))</c> in some order, then pops):
/// every firing pushes the same input positions in the same order, so the fused runtime can compile such a
/// filter away like a splitter — its output becomes a table of where each item already is, and the consumer
/// reads there. What the MIT compiler gets by unrolling and scalar replacement, without copying the items.
/// </summary>
internal static class DataMovement
{
    /// <summary>Whether data-movement filters are compiled to tables (<c>LOOM_STREAM_MOVES=0</c> turns it off, for comparing).</summary>
    internal static readonly bool Enabled = Environment.GetEnvironmentVariable("LOOM_STREAM_MOVES") != "0";

    private const int MaxPeek = 1 << 16;

    /// <summary>
    /// For a filter whose work only moves items, the input position (from the firing's first unread item) of each
    /// item a firing pushes, in push order; null for any other filter. The work qualifies when it is stateless,
    /// without prework, with static rates and one item type in and out, calls no helper and sends no message, and
    /// every <c>peek</c> and <c>pop</c> is either the whole value of a <c>push</c> or a dropped <c>pop();</c>:
    /// then no item value can reach a condition, an index or a variable, so every firing does the same moves,
    /// and one firing over the items 0, 1, 2, … shows them.
    /// </summary>
    public static int[]? Moves(FilterNode f, GlobalStore globals)
    {
        if (!Enabled || f.IsStateful || f.HasPrework || f.Symbol.IsIdentity || f.Symbol.Work is not { } work) return null;
        if (f.Pop.Dynamic || f.Peek.Dynamic || f.Push.Dynamic || f.Push.Value <= 0 || f.Pop.Value <= 0) return null;
        if (f.Input != f.Output || f.Peek.Value > MaxPeek) return null;
        var item = ClrTypes.Of(f.Input);
        if (item != typeof(int) && item != typeof(float) && item != typeof(double)) return null;

        var nodes = BoundWalker.Nodes(work.Body).ToList();
        if (nodes.Any(n => n is BCall or BPrint or BMessage)) return null;
        var pushes = nodes.OfType<BPush>().ToList();
        if (!pushes.All(p => p.Value is BPeek or BPop && p.Value.Type == f.Input)) return null;
        int reads = nodes.Count(n => n is BPeek or BPop);
        int placed = pushes.Count + nodes.Count(n => n is BExprStmt { Expr: BPop });
        if (reads != placed) return null;

        int peek = Math.Max(f.Peek.Value, f.Pop.Value);
        var input = Channel.Create(item, peek);
        var output = Channel.Create(item, f.Push.Value);
        for (int i = 0; i < peek; i++) input.PushBoxed(Convert.ChangeType(i, item, System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            CodeGen.CompileWork(f.Symbol, work, f.Args, f.Fields, input, output, globals, new Printer(null))(1);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null; // it fails when run; leave it to fail where it runs, with the filter's name
        }
        if (input.Head != f.Pop.Value || output.Count != f.Push.Value) return null;
        var moves = new int[f.Push.Value];
        for (int r = 0; r < moves.Length; r++)
        {
            double v = Convert.ToDouble(output.Items.GetValue((output.Head + r) & output.Mask), System.Globalization.CultureInfo.InvariantCulture);
            if (v < 0 || v >= peek || v != Math.Floor(v)) return null;
            moves[r] = (int)v;
        }
        return moves;
    }
}
