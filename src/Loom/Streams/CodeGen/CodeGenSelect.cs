using System.Linq.Expressions;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    /// <summary>LOOM_STREAM_SELECT=0 compiles every conditional expression as a branch (for comparing).</summary>
    internal static readonly bool SelectConditionals = Environment.GetEnvironmentVariable("LOOM_STREAM_SELECT") != "0";

    /// <summary>
    /// <c>c ? a : b</c> of ints whose condition and both values are plain arithmetic (nothing can fail or have an
    /// effect, so computing both is the same) as <see cref="Intrinsics.Select"/>, without a branch: Figure1's source
    /// returns <c>seed &lt; 0 ? -seed : seed</c> of a pseudo-random seed, a branch mispredicted half the time
    /// (gcc makes a conditional move of it). Null when the shape does not fit.
    /// </summary>
    private Expression? BranchFree(BConditional c)
    {
        if (!SelectConditionals || c.Type != SType.Int || c.WhenTrue.Type != SType.Int || c.WhenFalse.Type != SType.Int) return null;
        if (!IsPlainArithmetic(c.Condition) || !IsPlainArithmetic(c.WhenTrue) || !IsPlainArithmetic(c.WhenFalse)) return null;
        var (cond, a, b) = (Expr(c.Condition), Expr(c.WhenTrue), Expr(c.WhenFalse));
        if (cond.Type != typeof(bool) || a.Type != typeof(int) || b.Type != typeof(int)) return null;
        return Expression.Call(typeof(Intrinsics).GetMethod(nameof(Intrinsics.Select))!, cond, a, b);
    }
}
