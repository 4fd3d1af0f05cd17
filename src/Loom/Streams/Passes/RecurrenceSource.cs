using System.Runtime.CompilerServices;
using Loom.Streams.Graph;
using Loom.Streams.Semantics;

namespace Loom.Streams.Passes;

/// <summary>
/// Recognises a source filter whose only state is one int field stepped by <c>field = (A * field + C) % M</c>
/// (M = 2^k) once per firing, pushing the field's value (or its absolute value) before or after the step — the
/// shared benchmarks' <c>RandomSource</c> and Figure1's <c>A</c> with its helper <c>frand()</c>. What it changes:
/// the fused one-core code fills such a source's items a block at a time from the recurrence's solution
/// (<see cref="LcgBlocks"/>) instead of running its work function, and unit alternation on several cores runs it
/// for each core's own units, starting from its state computed by random access (<see cref="LcgRecurrence.At"/>),
/// instead of handing its state from core to core in unit order. Anything else is left as it is.
/// <c>LOOM_STREAM_RECURRENCE=0</c> turns it off (for comparing).
/// </summary>
public sealed class RecurrenceSource
{
    internal static readonly bool Enabled = Environment.GetEnvironmentVariable("LOOM_STREAM_RECURRENCE") != "0";

    public required LcgRecurrence Recurrence { get; init; }
    /// <summary>The item is the field after the firing's step (else before it).</summary>
    public required bool After { get; init; }
    /// <summary>The item is the field's absolute value (<c>s &lt; 0 ? -s : s</c>).</summary>
    public required bool Abs { get; init; }
    /// <summary>The filter instance's field.</summary>
    public required StrongBox<int> Field { get; init; }
    /// <summary>The items' CLR type (int or float).</summary>
    public required Type ItemType { get; init; }

    private LcgBlocks? _blocks;
    public LcgBlocks Blocks => _blocks ??= new LcgBlocks(Recurrence);

    /// <summary>Fills <paramref name="count"/> firings' items into an int arena at <paramref name="offset"/>, stepping the field.</summary>
    public static void FillInt(RecurrenceSource r, int[] arena, int offset, int count) =>
        r.Blocks.Fill(arena.AsSpan(offset, count), ref r.Field.Value, r.After, r.Abs);

    /// <summary>Fills <paramref name="count"/> firings' items into a float arena at <paramref name="offset"/>, stepping the field.</summary>
    public static void FillFloat(RecurrenceSource r, float[] arena, int offset, int count) =>
        r.Blocks.Fill(arena.AsSpan(offset, count), ref r.Field.Value, r.After, r.Abs);

    /// <summary>The recurrence form of <paramref name="f"/>, or null when it is anything else (or the switch is off).</summary>
    public static RecurrenceSource? Recognise(FilterNode f)
    {
        if (!Enabled) return null;
        var sym = f.Symbol;
        if (sym.Work is not { } work || sym.Prework is not null || f.HasPrework || sym.HasHandlers || sym.SendsMessages || sym.PrintsInWork) return null;
        if (f.Input != SType.Void || f.Output != SType.Int && f.Output != SType.Float) return null;
        if (f.Push is not { Value: 1, Dynamic: false } || f.Pop.Value != 0 || f.Peek.Value != 0) return null;
        if (sym.Fields.Count != 1 || sym.Fields[0] is not { Type: var t } field || t != SType.Int || !field.Sizes.IsEmpty) return null;
        if (f.Fields.Length != 1 || f.Fields[0] is not StrongBox<int> box) return null;

        // push(V); step — step; push(V) — push(helper()) with the helper being step; return V.
        var body = Flatten(work.Body).ToList();
        var (step, value, after, type) = body switch
        {
            [BExprStmt { Expr: BPush p }] when Unconvert(p.Value, f.Output) is BCall { Args.IsEmpty: true } call
                && Flatten(call.Function.Body).ToList() is [var s, BReturn { Value: { } ret }] => (s, ret, true, call.Function.ReturnType),
            [BExprStmt { Expr: BPush p }, var s] => (s, p.Value, false, f.Output),
            [var s, BExprStmt { Expr: BPush p }] => (s, p.Value, true, f.Output),
            _ => default((BStmt?, BExpr?, bool, SType?)),
        };
        if (step is null || value is null || type is null) return null;
        if (Update(step, field) is not { } rec || Value(Unconvert(value, type), field) is not { } abs) return null;
        return new RecurrenceSource { Recurrence = rec, After = after, Abs = abs, Field = box, ItemType = f.Output == SType.Int ? typeof(int) : typeof(float) };
    }

    private static IEnumerable<BStmt> Flatten(BStmt s) => s is BBlock b ? b.Statements.SelectMany(Flatten) : [s];

    /// <summary>An int expression converted to the stream's type (or already of it).</summary>
    private static BExpr Unconvert(BExpr e, SType to) => e is BConvert c && c.Type == to && c.Operand.Type == SType.Int ? c.Operand : e;

    /// <summary>Whether <paramref name="e"/> is the field (false) or its absolute value (true); null: neither.</summary>
    private static bool? Value(BExpr e, VarSymbol field)
    {
        if (e.Type != SType.Int) return null;
        if (IsField(e, field)) return false;
        // s < 0 ? -s : s (or <=), s > 0 ? s : -s (or >=).
        if (e is BConditional { Condition: BBinary { Op: var op, Left: var l, Right: BConst { Value: 0 } } } c && IsField(l, field))
        {
            bool NegOf(BExpr x) => x is BUnary { Op: UnOp.Neg, Operand: var o } && IsField(o, field);
            if (op is BinOp.Lt or BinOp.Le && NegOf(c.WhenTrue) && IsField(c.WhenFalse, field)) return true;
            if (op is BinOp.Gt or BinOp.Ge && IsField(c.WhenTrue, field) && NegOf(c.WhenFalse)) return true;
        }
        return null;
    }

    private static bool IsField(BExpr e, VarSymbol field) => e is BVar { Symbol: var s } && s == field;

    /// <summary><c>field = (A * field + C) % M</c> (either operand order, C optional or subtracted) as a recurrence; null otherwise.</summary>
    private static LcgRecurrence? Update(BStmt s, VarSymbol field)
    {
        if (s is not BExprStmt { Expr: BAssign { Target: var target, Value: BBinary { Op: BinOp.Rem, Left: var x, Right: BConst { Value: int m }, OperandType: var rt } } }
            || rt != SType.Int || !IsField(target, field)) return null;
        if (m < 2 || (m & (m - 1)) != 0) return null;
        int a, c = 0;
        if (Product(x, field) is { } only) a = only;
        else if (x is BBinary { Op: BinOp.Add or BinOp.Sub, OperandType: var ot } sum && ot == SType.Int)
        {
            if (Product(sum.Left, field) is { } pa && sum.Right is BConst { Value: int cr }) { a = pa; c = sum.Op == BinOp.Add ? cr : unchecked(-cr); }
            else if (sum.Op == BinOp.Add && sum.Left is BConst { Value: int cl } && Product(sum.Right, field) is { } pb) { a = pb; c = cl; }
            else return null;
        }
        else return null;
        return new LcgRecurrence(a, c, System.Numerics.BitOperations.Log2((uint)m));
    }

    /// <summary>A in <c>A * field</c> or <c>field * A</c> (int arithmetic); null otherwise.</summary>
    private static int? Product(BExpr e, VarSymbol field) => e switch
    {
        BBinary { Op: BinOp.Mul, Left: BConst { Value: int a }, Right: var r, OperandType: var t } when t == SType.Int && IsField(r, field) => a,
        BBinary { Op: BinOp.Mul, Left: var l, Right: BConst { Value: int a }, OperandType: var t } when t == SType.Int && IsField(l, field) => a,
        _ => null,
    };
}
