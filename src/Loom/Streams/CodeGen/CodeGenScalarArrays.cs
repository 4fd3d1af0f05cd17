using System.Linq.Expressions;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    /// <summary>Private one-dimensional scalar arrays whose elements live in locals in this compilation.</summary>
    private HashSet<VarSymbol> _scalarArrays = [];
    /// <summary>The element locals of each array in <see cref="_scalarArrays"/>.</summary>
    private readonly Dictionary<VarSymbol, ParameterExpression[]> _elements = [];
    /// <summary>Candidates seen used other than at a constant index in range (a first, discovering compilation).</summary>
    private readonly HashSet<VarSymbol> _notScalar = [];
    private const int MaxScalarElements = 64;
    /// <summary>Set while <see cref="Index"/> generates its array operand (a use at an index, not a whole use).</summary>
    private bool _indexingArray;

    /// <summary>
    /// After a first compilation of a work body: the private arrays (<see cref="PrivateArrays"/>) of one dimension
    /// and scalar items that every access indexed at a constant in range (after unrolling and folding), such as
    /// FFT2's <c>results</c>. A second compilation keeps their elements in locals (what the MIT compiler's scalar
    /// replacement does): no stores and reloads through memory, no bounds checks, no clearing call.
    /// </summary>
    private HashSet<VarSymbol> ScalarCandidatesFound() =>
        PrivateArrays().Where(s => s.Type is ArrayType { Rank: 1, Element: var e } && e.IsScalar && ArraySize(s) is > 0 and <= MaxScalarElements
            && !_notScalar.Contains(s)).ToHashSet();

    private int? ArraySize(VarSymbol s) => s.Sizes.Length == 1 && IsInvariant(s.Sizes[0]) ? ConstInt(s.Sizes[0]) : null;

    /// <summary>An element of a scalar-replaced array at <paramref name="index"/>, or null (and the array noted as not replaceable).</summary>
    private Expression? ScalarElement(BIndex ix, Expression index)
    {
        if (ix.Array is not BVar { Symbol: var s } || !PrivateArrays().Contains(s)) return null;
        if (index is not ConstantExpression { Value: int k } || ArraySize(s) is not int n || k < 0 || k >= n)
        {
            _notScalar.Add(s);
            return null;
        }
        if (!_scalarArrays.Contains(s)) return null;
        return Elements(s)[k];
    }

    private ParameterExpression[] Elements(VarSymbol s)
    {
        if (_elements.TryGetValue(s, out var e)) return e;
        var t = ClrTypes.Of(((ArrayType)s.Type).Element);
        e = Enumerable.Range(0, ArraySize(s)!.Value).Select(k => NewLocal(t, $"{s.Name}_{k}")).ToArray();
        _elements[s] = e;
        return e;
    }

    /// <summary>The declaration of a scalar-replaced array: every element zero (Java's fresh array).</summary>
    private Expression ScalarArrayDecl(VarSymbol s)
    {
        var t = ClrTypes.Of(((ArrayType)s.Type).Element);
        return Expression.Block(typeof(void), Elements(s).Select(e => (Expression)Expression.Assign(e, Expression.Default(t))));
    }
}
