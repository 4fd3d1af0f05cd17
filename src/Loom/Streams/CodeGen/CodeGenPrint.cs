using System.Linq.Expressions;
using Loom.Streams.Execution;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

/// <summary>
/// Printing off in work functions: the values are folded into the printer's checksum (exactly as
/// <see cref="Printer.Fold"/> does) held in a local for the batch of firings, and lines counted in a local. The
/// printer's fields made a store-to-load chain through memory on every output (in ComparisonCounting the sink's
/// fold was over half of its code's time).
/// </summary>
internal sealed partial class CodeGen
{
    /// <summary>Whether this code may keep the printer's state in locals (work functions, whose callers load and store it).</summary>
    private bool _localPrint;
    private (ParameterExpression Sum, ParameterExpression Lines)? _printState;

    /// <summary>Loads of the printer's state before the firings and stores after them (empty when the code does not print).</summary>
    private (List<Expression> Load, List<Expression> Store) PrintStateMoves()
    {
        if (_printState is not { } st) return ([], []);
        var printer = Expression.Constant(_printer!);
        var sum = Expression.Field(printer, nameof(Printer.Checksum));
        var lines = Expression.Field(printer, nameof(Printer.Lines));
        return ([Expression.Assign(st.Sum, sum), Expression.Assign(st.Lines, lines)],
            [Expression.Assign(sum, st.Sum), Expression.Assign(lines, st.Lines)]);
    }

    private Expression? LocalPrint(BPrint p)
    {
        if (!_localPrint || _printer is null || _printer.Printing) return null;
        _printState ??= (NewLocal(typeof(ulong), "checksum"), NewLocal(typeof(long), "lines"));
        var (sum, lines) = _printState.Value;
        var steps = new List<Expression>();
        var temps = new List<ParameterExpression>();
        void Fold(Expression bits) =>
            steps.Add(Expression.Assign(sum, Expression.Call(typeof(Printer).GetMethod(nameof(Printer.FoldInto))!, sum, bits, lines)));
        Expression DoubleBits(Expression d) => Expression.Convert(Expression.Call(typeof(BitConverter).GetMethod(nameof(BitConverter.DoubleToInt64Bits))!,
            Expression.Convert(d, typeof(double))), typeof(ulong));
        foreach (var part in p.Parts)
        {
            var v = Expr(part);
            if (part.Type.IsIntLike) Fold(Expression.Convert(Expression.Convert(v, typeof(long)), typeof(ulong)));
            else if (part.Type == SType.Float || part.Type == SType.Double) Fold(DoubleBits(v));
            else if (part.Type == SType.Boolean) Fold(Expression.Condition(v, Expression.Constant(1UL), Expression.Constant(2UL)));
            else if (part.Type == SType.Complex)
            {
                var c = Expression.Variable(typeof(SValue), "c");
                temps.Add(c);
                steps.Add(Expression.Assign(c, v));
                var leaves = Expression.Field(c, nameof(SValue.L));
                Fold(DoubleBits(Expression.ArrayIndex(leaves, Expression.Constant(0))));
                Fold(Expression.Constant(3UL));
                Fold(DoubleBits(Expression.ArrayIndex(leaves, Expression.Constant(1))));
                Fold(Expression.Constant(1UL));
            }
            else if (v.Type == typeof(string)) Fold(Expression.Convert(Expression.Convert(Expression.Property(v, nameof(string.Length)), typeof(long)), typeof(ulong)));
            else return null;
        }
        if (p.NewLine)
        {
            steps.Add(Expression.PreIncrementAssign(lines));
            steps.Add(Expression.IfThen(Expression.GreaterThanOrEqual(lines, Expression.Constant(_printer.MaxLines)),
                Expression.Call(typeof(Printer).GetMethod(nameof(Printer.StopAtLimit))!, Expression.Constant(_printer), sum, lines)));
        }
        steps.Add(Expression.Empty());
        return Expression.Block(typeof(void), temps, steps);
    }
}
