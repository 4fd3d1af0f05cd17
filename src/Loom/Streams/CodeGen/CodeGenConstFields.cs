using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    /// <summary>
    /// Scalar fields that nothing assigns after init (not work, prework, nor a helper they call; a filter with
    /// message handlers has none): their value when work is compiled is their value for good, so work sees them as
    /// constants, as it sees parameters — loop bounds fold and loops unroll (FFT2's <c>i &lt; totalData</c>).
    /// </summary>
    internal static HashSet<VarSymbol> ConstantFields(StreamSymbol s)
    {
        var result = new HashSet<VarSymbol>();
        if (s.HasHandlers || s.Work is null) return result;
        foreach (var f in s.Fields)
            if (f.Type.IsScalar) result.Add(f);
        var code = new List<BStmt> { s.Work.Body };
        if (s.Prework is { } pre) code.Add(pre.Body);
        var seen = new HashSet<FunctionSymbol>();
        for (int i = 0; i < code.Count && result.Count > 0; i++)
            foreach (var n in BoundWalker.Nodes(code[i]))
                switch (n)
                {
                    case BAssign a when Refs.Root(a.Target) is { } r: result.Remove(r); break;
                    case BCompoundAssign c when Refs.Root(c.Target) is { } r: result.Remove(r); break;
                    case BIncDec d when Refs.Root(d.Target) is { } r: result.Remove(r); break;
                    case BCall c when seen.Add(c.Function): code.Add(c.Function.Body); break;
                }
        return result;
    }

    /// <summary>Fields bound as constants in the code being compiled (<see cref="ConstantFields"/>).</summary>
    private HashSet<VarSymbol> _constFields = [];
}
