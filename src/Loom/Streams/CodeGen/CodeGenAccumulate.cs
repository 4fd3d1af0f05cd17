using System.Linq.Expressions;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

internal sealed partial class CodeGen
{
    /// <summary>The work body being compiled (for <see cref="PrivateArrays"/>), or null.</summary>
    private BStmt? _workBody;
    private HashSet<VarSymbol>? _privateArrays;

    /// <summary>
    /// Local arrays of the work body that no other name can reach: declared fresh (no initialiser) and used only
    /// as the array of an index (never assigned, passed, pushed or compared), so nothing but an index through
    /// the same variable reads or writes their elements.
    /// </summary>
    private HashSet<VarSymbol> PrivateArrays()
    {
        if (_privateArrays is not null) return _privateArrays;
        _privateArrays = [];
        if (_workBody is null) return _privateArrays;
        var nodes = BoundWalker.Nodes(_workBody).ToList();
        var uses = new Dictionary<VarSymbol, int>();
        foreach (var v in nodes.OfType<BVar>()) uses[v.Symbol] = uses.GetValueOrDefault(v.Symbol) + 1;
        var indexed = new Dictionary<VarSymbol, int>();
        foreach (var ix in nodes.OfType<BIndex>())
            if (ix.Array is BVar { Symbol: var s }) indexed[s] = indexed.GetValueOrDefault(s) + 1;
        foreach (var d in nodes.OfType<BVarDecl>())
            if (d is { Init: null, Symbol: { Kind: VarKind.Local, Type: ArrayType } sym }
                && uses.GetValueOrDefault(sym) == indexed.GetValueOrDefault(sym))
                _privateArrays.Add(sym);
        return _privateArrays;
    }

    /// <summary>
    /// An unrolled loop whose body is one <c>a[…] op= e</c> on the same element in every iteration (the index
    /// does not use the counter) of a private array that <c>e</c> does not read, and <c>e</c> writes nothing:
    /// the element is read once into a local, the copies update the local, and it is stored once at the end —
    /// the same operations in the same order. Otherwise the JIT stores and reloads the element at every copy, a
    /// chain through memory (DCT's <c>block_x[i][j] += coeff[k][j] * peek(…)</c>), where gcc keeps it in a register.
    /// Null when the body is not of that form.
    /// </summary>
    private Expression? Accumulated(VarSymbol counter, BStmt body, Expression init, IReadOnlyList<Expression> counterValues, Expression final)
    {
        while (body is BBlock { Statements.Length: 1 } b) body = b.Statements[0];
        if (body is not BExprStmt { Expr: BCompoundAssign { Target: BIndex target } ca } || counterValues.Count == 0) return null;
        BExpr root = target;
        while (root is BIndex r) root = r.Array;
        if (root is not BVar { Symbol: var arr } || !PrivateArrays().Contains(arr)) return null;
        static bool Writes(object n) => n is BAssign or BCompoundAssign or BIncDec or BCall or BPrint or BMessage or BPush or BPop or BArrayInit;
        var targetNodes = BoundWalker.Nodes(target).ToList();
        if (targetNodes.Any(n => Writes(n) || n is BVar { Symbol: var s } && s == counter)) return null;
        if (BoundWalker.Nodes(ca.Value).Any(n => n is BAssign or BCompoundAssign or BIncDec or BCall or BPrint or BMessage or BPush or BArrayInit
            || n is BVar { Symbol: var s } && s == arr)) return null;

        var (stable, temps, setup) = Stabilize(target);
        var accSym = new VarSymbol("acc", target.Type, VarKind.Local, target.Span);
        var acc = Expression.Variable(ClrTypes.Of(target.Type), "acc");
        _vars[accSym] = acc;
        var parts = new List<Expression> { init };
        parts.AddRange(setup);
        parts.Add(Expression.Assign(acc, Expr(stable)));
        var saved = _vars[counter];
        try
        {
            var step = new BCompoundAssign(new BVar(accSym, target.Span), ca.Op, ca.Value, ca.OperandType, ca.Span);
            foreach (var value in counterValues)
            {
                _vars[counter] = value;
                parts.Add(CompoundAssign(step));
            }
        }
        finally { _vars[counter] = saved; }
        parts.Add(Assign(stable, acc));
        parts.Add(final);
        return Expression.Block(typeof(void), [.. temps, acc], parts);
    }

    private HashSet<VarSymbol>? _assignedLocals;

    /// <summary>Variables assigned anywhere but their declaration in the work body or a helper it calls.</summary>
    private HashSet<VarSymbol> AssignedLocals() =>
        _assignedLocals ??= Refs.AssignedRoots(_workBody is null ? [] : [_workBody]);
}
