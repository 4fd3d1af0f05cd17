using System.Linq.Expressions;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    /// <summary>Whether <c>x % 2^k</c> gets the short form below (<c>LOOM_STREAM_REM=0</c> turns it off, for comparing).</summary>
    internal static readonly bool ShortRemainders = Environment.GetEnvironmentVariable("LOOM_STREAM_REM") != "0";

    /// <summary>
    /// Java's <c>x % 2^k</c> on ints (the remainder has the dividend's sign) as <c>r = x &amp; (2^k − 1)</c>, then
    /// <c>r == 0 ? 0 : r | ((x &gt;&gt; 31) &amp; −2^k)</c>: for a negative x with low bits r ≠ 0 the remainder is
    /// r − 2^k, which is r with every bit from k up set. The JIT's own form (sar, and, add, and, sub) is five
    /// dependent instructions from x to the result; this one is three (the test of r is off the path, and r == 0
    /// is rare). It matters where the remainder is a loop-carried chain: the benchmarks' random source
    /// <c>seed = (65793 * seed + 4282663) % 8388608</c> went from 9 to 7 cycles per item (imul, add, then this).
    /// Null unless the divisor is a constant 2^k, 1 ≤ k ≤ 30.
    /// </summary>
    internal static Expression? PowerOfTwoRemainder(Expression x, Expression divisor)
    {
        if (!ShortRemainders || x.Type != typeof(int) || divisor is not ConstantExpression { Value: int d } || d < 2 || (d & (d - 1)) != 0) return null;
        var v = Expression.Variable(typeof(int), "remX");
        var r = Expression.Variable(typeof(int), "remLow");
        var negativeHigh = Expression.And(Expression.RightShift(v, Expression.Constant(31)), Expression.Constant(-d));
        return Expression.Block(typeof(int), [v, r],
            Expression.Assign(v, x),
            Expression.Assign(r, Expression.And(v, Expression.Constant(d - 1))),
            Expression.Condition(Expression.Equal(r, Expression.Constant(0)), Expression.Constant(0), Expression.Or(r, negativeHigh)));
    }
}
