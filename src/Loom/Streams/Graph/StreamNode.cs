using Loom.Streams.Semantics;
using Loom.Streams.Syntax;

namespace Loom.Streams.Graph;

/// <summary>
/// A node of the hierarchical stream graph made by elaboration: a filter instance, or a pipeline, split-join
/// or feedback loop of child nodes. Types are the items flowing in and out (void at a program's ends).
/// </summary>
public abstract class StreamNode
{
    public required string Name { get; init; }
    public SType Input { get; set; } = SType.Void;
    public SType Output { get; set; } = SType.Void;
    public SourceSpan Span { get; init; }
    public override string ToString() => Name;
}

/// <summary>A declared rate evaluated for one instance; <see cref="Dynamic"/> for '*' or a range.</summary>
public readonly record struct Rate(int Value, bool Dynamic)
{
    public override string ToString() => Dynamic ? "*" : Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public sealed class FilterNode : StreamNode
{
    public required StreamSymbol Symbol { get; init; }
    /// <summary>Parameter values (declared, then captured), as the CLR values code generation embeds.</summary>
    public required object?[] Args { get; init; }
    public Rate Pop, Peek, Push;
    public bool HasPrework;
    public Rate PrePop, PrePeek, PrePush;
    /// <summary>Field storage (one StrongBox per field), filled by the field initializers and init.</summary>
    public required System.Runtime.CompilerServices.IStrongBox[] Fields { get; init; }

    /// <summary>Its teleport-messaging state: firings counted and messages waiting (used when it sends or handles messages).</summary>
    public Execution.MessageBox Box { get; } = new();

    /// <summary>
    /// For a filter that only moves items (<see cref="CodeGen.DataMovement"/>): the input position of each item a
    /// firing pushes; the fused runtime compiles it away like a splitter. Null for other filters.
    /// </summary>
    public int[]? Moves { get; set; }

    /// <summary>For a source stepping one int field by <c>(A * field + C) % 2^k</c>: its solved form (<see cref="Passes.RecurrenceSource"/>); null for other filters.</summary>
    public Passes.RecurrenceSource? Recurrence { get; set; }

    /// <summary>Carries state across firings (declared stateful, writes a field in work, or prints): no fission.</summary>
    public bool IsStateful => Symbol.DeclaredStateful || Symbol.WritesStateInWork || Symbol.PrintsInWork || Symbol.HasHandlers;
}

public sealed class PipelineNode : StreamNode
{
    public List<StreamNode> Children { get; } = [];
}

public enum SplitKind { Duplicate, RoundRobin }

/// <summary>A splitter or joiner: duplicate, or round-robin with one weight per branch.</summary>
public sealed record SplitSpec(SplitKind Kind, int[] Weights)
{
    public override string ToString() => Kind == SplitKind.Duplicate ? "duplicate" : $"roundrobin({string.Join(", ", Weights)})";
}

public sealed class SplitJoinNode : StreamNode
{
    public List<StreamNode> Branches { get; } = [];
    public SplitSpec? Split { get; set; }
    public SplitSpec? Join { get; set; }
}

public sealed class FeedbackLoopNode : StreamNode
{
    public StreamNode? Body { get; set; }
    public StreamNode? Loop { get; set; }
    /// <summary>Joiner: weight 0 is the loop's input from outside, weight 1 what comes back around.</summary>
    public SplitSpec? Join { get; set; }
    /// <summary>Splitter: output 0 leaves the loop, output 1 goes around.</summary>
    public SplitSpec? Split { get; set; }
    /// <summary>The enqueued items (the delay on the back edge), in order.</summary>
    public List<object?> Enqueued { get; } = [];
}
