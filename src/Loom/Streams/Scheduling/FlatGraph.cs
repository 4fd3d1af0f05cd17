using Loom.Streams.Execution;
using Loom.Streams.Graph;
using Loom.Streams.Semantics;

namespace Loom.Streams.Scheduling;

public enum ActorKind { Filter, Splitter, Joiner }

/// <summary>
/// A node of the flat dataflow graph: a filter, or the splitter or joiner of a split-join or feedback loop.
/// Ports are numbered; a port whose round-robin weight is 0 has no edge.
/// </summary>
public sealed class Actor
{
    public required string Name { get; init; }
    public required ActorKind Kind { get; init; }
    public FilterNode? Filter { get; init; }
    public SplitSpec? Spec { get; init; }
    /// <summary>The composite stream this splitter or joiner belongs to, or the filter itself (for messages).</summary>
    public required string Owner { get; init; }
    /// <summary>The innermost feedback loop this actor is part of, if any (for deadlock messages).</summary>
    public string? FeedbackLoop { get; init; }
    public List<Edge?> In { get; } = [];
    public List<Edge?> Out { get; } = [];
    public int[] Pop = [], Push = [];
    /// <summary>Items an input must hold beyond what one firing pops (peek − pop), for filters.</summary>
    public int ExtraPeek;
    public int Index;
    /// <summary>A filter whose pop or peek (or prework's) is dynamic ('*' or a range): its input edge is a dynamic queue.</summary>
    public bool DynamicIn;
    /// <summary>A filter whose push (or prework's) is dynamic: its output edge is a dynamic queue.</summary>
    public bool DynamicOut;

    public bool HasPrework => Filter?.HasPrework == true;
    public override string ToString() => Name;

    /// <summary>Items popped from input port p (or pushed to output port p) by n firings, prework first.</summary>
    public long Consumed(int port, long n) =>
        n == 0 ? 0 : HasPrework ? Filter!.PrePop.Value + (n - 1) * Pop[port] : n * Pop[port];

    public long Produced(int port, long n) =>
        n == 0 ? 0 : HasPrework ? Filter!.PrePush.Value + (n - 1) * Push[port] : n * Push[port];

    /// <summary>How many items input port p must hold for the next firing (the n-th, counting from 0).</summary>
    public long NeededForFiring(int port, long firingsSoFar)
    {
        if (HasPrework && firingsSoFar == 0) return Math.Max(Filter!.PrePeek.Value, Filter.PrePop.Value);
        return Pop[port] + ExtraPeek;
    }

    public long PopFor(int port, long firingsSoFar) =>
        HasPrework && firingsSoFar == 0 ? Filter!.PrePop.Value : Pop[port];

    public long PushFor(int port, long firingsSoFar) =>
        HasPrework && firingsSoFar == 0 ? Filter!.PrePush.Value : Push[port];
}

public sealed class Edge
{
    public required Actor Src { get; init; }
    public required int SrcPort { get; init; }
    public required Actor Dst { get; init; }
    public required int DstPort { get; init; }
    public required SType Type { get; init; }
    /// <summary>Items on the edge before anything fires: a feedback loop's enqueued values.</summary>
    public List<object?> Initial { get; } = [];
    /// <summary>
    /// Carries a dynamic number of items per firing of one side (or is run demand-driven for messaging): static
    /// scheduling stops here, the edge is a growable queue and its consumer pulls its producer's region.
    /// </summary>
    public bool Dynamic { get; set; }
    public Channel? Channel { get; set; }
    public override string ToString() => $"{Src.Name} -> {Dst.Name}";
}

public sealed class FlatGraph
{
    public List<Actor> Actors { get; } = [];
    public List<Edge> Edges { get; } = [];
}
