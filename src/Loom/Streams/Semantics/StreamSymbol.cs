using System.Collections.Immutable;
using Loom.Streams.Syntax;

namespace Loom.Streams.Semantics;

/// <summary>A declared rate after binding: fixed when Min and Max are the same expression; null parts are '*'.</summary>
public sealed record BRate(BExpr? Min, BExpr? Average, BExpr? Max, SourceSpan Span);

public sealed class WorkSymbol
{
    public required BRate? Push { get; init; }
    public required BRate? Pop { get; init; }
    public required BRate? Peek { get; init; }
    public required BBlock Body { get; init; }
    public required SourceSpan Span { get; init; }
}

/// <summary>
/// A bound stream declaration (named, anonymous, or the built-in <c>Identity&lt;T&gt;</c>). Instances are made
/// at elaboration by binding <see cref="Params"/> to values; for an anonymous stream the parameters after the
/// declared ones are the variables it captures from the body that adds it.
/// </summary>
public sealed class StreamSymbol
{
    public required string Name { get; init; }
    public required StreamKind Kind { get; init; }
    public required SourceSpan Span { get; init; }
    public StreamDecl? Syntax { get; init; }
    /// <summary>Declared types; null when an anonymous composite omits them (inferred from its parts).</summary>
    public SType? InputType { get; set; }
    public SType? OutputType { get; set; }
    public List<VarSymbol> Params { get; } = [];
    public bool DeclaredStateful { get; init; }
    public bool IsIdentity { get; init; }
    public bool IsAnonymous => Syntax is { Name: null };

    // Composite streams.
    public BBlock? Body { get; set; }

    // Filters.
    public List<VarSymbol> Fields { get; } = [];
    /// <summary>Field declarations in order (their initializers run when the filter is instantiated, before init).</summary>
    public List<BVarDecl> FieldDecls { get; } = [];
    public BBlock? Init { get; set; }
    public WorkSymbol? Prework { get; set; }
    public WorkSymbol? Work { get; set; }
    public List<FunctionSymbol> Functions { get; } = [];

    /// <summary>Work (or what it calls) assigns a field: the filter carries state from one firing to the next.</summary>
    public bool WritesStateInWork { get; set; }
    /// <summary>Work (or what it calls) prints, so its firings must stay in order.</summary>
    public bool PrintsInWork { get; set; }
    /// <summary>Work or prework (or what they call) sends a teleport message.</summary>
    public bool SendsMessages { get; set; }
    /// <summary>Has message handlers (which change its state between firings).</summary>
    public bool HasHandlers => Functions.Any(f => f.IsHandler);

    public override string ToString() => Name;
}

/// <summary>Everything the binder found: streams by name, globals (with the static block's statements), helper functions.</summary>
public sealed class BoundProgram
{
    public required ProgramSyntax Syntax { get; init; }
    public Dictionary<string, StreamSymbol> Streams { get; } = [];
    public List<VarSymbol> Globals { get; } = [];
    /// <summary>Global declarations and static init statements, in order.</summary>
    public List<BStmt> StaticCode { get; } = [];
    public Dictionary<string, FunctionSymbol> Functions { get; } = [];
    public Dictionary<string, StructType> Structs { get; } = [];

    /// <summary>The <c>void-&gt;void</c> stream that nothing else adds: the program's top level.</summary>
    public StreamSymbol FindTopLevel(string? preferred = null)
    {
        if (preferred is not null)
            return Streams.TryGetValue(preferred, out var p) ? p : throw new StreamException($"there is no stream named '{preferred}'");
        var used = new HashSet<string>();
        foreach (var s in Streams.Values) CollectAdded(s, used);
        var candidates = Streams.Values
            .Where(s => !s.IsIdentity && s.InputType == SType.Void && s.OutputType == SType.Void && s.Params.Count == 0)
            .ToList();
        var top = candidates.Where(s => !used.Contains(s.Name)).ToList();
        if (top.Count == 1) return top[0];
        if (top.Count == 0 && candidates.Count == 1) return candidates[0];
        var files = string.Join(", ", Syntax.Files.Select(f => f.Path));
        if (top.Count == 0) throw new StreamException($"{files}: no top-level void->void stream without parameters found");
        throw new StreamException($"{files}: more than one top-level void->void stream ({string.Join(", ", top.Select(t => t.Name))})");
    }

    private static void CollectAdded(StreamSymbol s, HashSet<string> used)
    {
        if (s.Body is not null) Walk(s.Body);
        void Walk(BStmt st)
        {
            switch (st)
            {
                case BBlock b: foreach (var x in b.Statements) Walk(x); break;
                case BIf i: Walk(i.Then); if (i.Else is not null) Walk(i.Else); break;
                case BLoop l: Walk(l.Body); break;
                case BAdd a: Note(a.Stream); break;
                case BBodyOrLoop bl: Note(bl.Stream); break;
            }
        }
        void Note(BStreamRef r)
        {
            used.Add(r.Stream.Name);
            if (r.Stream.IsAnonymous) CollectAdded(r.Stream, used);
        }
    }
}
