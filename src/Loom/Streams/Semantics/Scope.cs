namespace Loom.Streams.Semantics;

/// <summary>
/// A lexical scope. The root scope of an anonymous stream has a <see cref="Boundary"/>: a name it does not
/// declare is looked up where the stream is added and, if it is a local or parameter there, captured —
/// it becomes an extra parameter of the anonymous stream whose value is copied at the <c>add</c>.
/// </summary>
internal sealed class Scope(Scope? parent)
{
    public Scope? Parent { get; } = parent;
    public Dictionary<string, VarSymbol> Vars { get; } = [];
    public (Scope Outer, StreamSymbol Stream)? Boundary { get; init; }

    public VarSymbol? Lookup(string name)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s.Vars.TryGetValue(name, out var v)) return v;
            if (s.Boundary is { } b)
            {
                var outer = b.Outer.Lookup(name);
                if (outer is null || outer.Kind == VarKind.Global) return outer;
                var cap = new VarSymbol(name, outer.Type, VarKind.Param, outer.Declared)
                {
                    CapturedFrom = outer, Index = b.Stream.Params.Count, Sizes = outer.Sizes,
                };
                b.Stream.Params.Add(cap);
                s.Vars[name] = cap;
                return cap;
            }
        }
        return null;
    }

    /// <summary>Is <paramref name="name"/> declared in this very scope (not a parent)?</summary>
    public bool DeclaresHere(string name) => Vars.ContainsKey(name);
}
