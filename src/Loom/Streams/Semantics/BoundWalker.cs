namespace Loom.Streams.Semantics;

/// <summary>Enumerates the nodes of bound code (pre-order), for analyses that look for a kind of node.</summary>
public static class BoundWalker
{
    public static IEnumerable<object> Nodes(BStmt s)
    {
        var stack = new Stack<object>();
        stack.Push(s);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            yield return n;
            foreach (var c in Children(n).Reverse()) stack.Push(c);
        }
    }

    public static IEnumerable<object> Nodes(BExpr e) => Nodes(new BExprStmt(e, e.Span));

    private static IEnumerable<object> Children(object n)
    {
        switch (n)
        {
            case BBlock b: return b.Statements;
            case BVarDecl d: return [.. d.Symbol.Sizes, .. Opt(d.Init)];
            case BExprStmt e: return [e.Expr];
            case BIf i: return [i.Condition, i.Then, .. Opt(i.Else)];
            case BLoop l: return [.. Opt(l.Init), .. Opt(l.Condition), l.Body, .. Opt(l.Update)];
            case BReturn r: return Opt(r.Value);
            case BAdd a: return [.. a.Stream.Args, .. a.Portals];
            case BBodyOrLoop bl: return bl.Stream.Args;
            case BSplitJoin sj: return sj.Weights;
            case BEnqueue en: return [en.Value];
            case BBinary b: return [b.Left, b.Right];
            case BUnary u: return [u.Operand];
            case BConvert c: return [c.Operand];
            case BAssign a: return [a.Target, a.Value];
            case BCompoundAssign ca: return [ca.Target, ca.Value];
            case BIncDec i: return [i.Target];
            case BConditional c: return [c.Condition, c.WhenTrue, c.WhenFalse];
            case BIndex ix: return [ix.Array, ix.Index];
            case BFieldAccess f: return [f.Target];
            case BCall c: return c.Args;
            case BIntrinsic i: return i.Args;
            case BPeek p: return [p.Index];
            case BPush p: return [p.Value];
            case BPrint p: return p.Parts;
            case BArrayInit ai: return ai.Elements;
            case BMessage m: return [m.Portal, .. m.Args, .. Opt(m.MinLatency), .. Opt(m.MaxLatency)];
            default: return [];
        }
    }

    private static IEnumerable<object> Opt(object? o) => o is null ? [] : [o];
}

internal static class Refs
{
    public static BVar? FirstField(BExpr e) =>
        BoundWalker.Nodes(e).OfType<BVar>().FirstOrDefault(v => v.Symbol.Kind == VarKind.Field);

    /// <summary>
    /// The variables assigned (=, op=, ++/--; x for x, x[i], x.f) anywhere in <paramref name="code"/> or in a helper function
    /// it calls, however deep.
    /// </summary>
    public static HashSet<VarSymbol> AssignedRoots(IEnumerable<BStmt> code)
    {
        var assigned = new HashSet<VarSymbol>();
        var todo = code.ToList();
        var seen = new HashSet<FunctionSymbol>();
        for (int i = 0; i < todo.Count; i++)
            foreach (var n in BoundWalker.Nodes(todo[i]))
                switch (n)
                {
                    case BAssign a when Root(a.Target) is { } r: assigned.Add(r); break;
                    case BCompoundAssign c when Root(c.Target) is { } r: assigned.Add(r); break;
                    case BIncDec d when Root(d.Target) is { } r: assigned.Add(r); break;
                    case BCall c when seen.Add(c.Function): todo.Add(c.Function.Body); break;
                }
        return assigned;
    }

    /// <summary>The variable an assignment target finally writes (x in x, x[i], x.f, x[i].f).</summary>
    public static VarSymbol? Root(BExpr target) => target switch
    {
        BVar v => v.Symbol,
        BIndex ix => Root(ix.Array),
        BFieldAccess f => Root(f.Target),
        _ => null,
    };
}

/// <summary>
/// Decides whether a filter is stateful (its work, or a helper work calls, writes a field) and whether its work
/// prints; both forbid running its firings out of order or in parallel copies.
/// </summary>
internal static class StateAnalysis
{
    public static void Analyze(StreamSymbol filter)
    {
        var seen = new HashSet<FunctionSymbol>();
        var code = new List<BStmt> { filter.Work!.Body };
        bool writes = false, prints = false;
        for (int i = 0; i < code.Count; i++)
            foreach (var n in BoundWalker.Nodes(code[i]))
                switch (n)
                {
                    case BAssign a when Refs.Root(a.Target)?.Kind == VarKind.Field: writes = true; break;
                    case BCompoundAssign c when Refs.Root(c.Target)?.Kind == VarKind.Field: writes = true; break;
                    case BIncDec d when Refs.Root(d.Target)?.Kind == VarKind.Field: writes = true; break;
                    case BPrint: prints = true; break;
                    case BMessage: prints = true; break; // a message's timing is tied to this filter's firing order
                    case BCall c when seen.Add(c.Function): code.Add(c.Function.Body); break;
                }
        var sendsIn = new List<BStmt> { filter.Work!.Body };
        if (filter.Prework is { } pre) sendsIn.Add(pre.Body);
        var called = new HashSet<FunctionSymbol>();
        for (int i = 0; i < sendsIn.Count; i++)
            foreach (var n in BoundWalker.Nodes(sendsIn[i]))
                if (n is BMessage) filter.SendsMessages = true;
                else if (n is BCall c && called.Add(c.Function)) sendsIn.Add(c.Function.Body);
        filter.WritesStateInWork = writes;
        filter.PrintsInWork = prints;
    }
}
