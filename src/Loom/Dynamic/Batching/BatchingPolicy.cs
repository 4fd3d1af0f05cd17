namespace Loom.Dynamic.Batching;

/// <summary>How the nodes of a forward are grouped into batched kernel calls.</summary>
public enum BatchingPolicy
{
    /// <summary>One kernel call per node, in the order the nodes were built (the unbatched reference).</summary>
    None,
    /// <summary>DyNet's depth-based batching: nodes of equal signature and equal depth (longest path from an input) run together.</summary>
    Depth,
    /// <summary>DyNet's agenda (default): of the ready nodes, run every node of the signature whose ready nodes have the lowest average depth.</summary>
    Agenda,
    /// <summary>ED-Batch: the next signature to run is chosen by a finite-state machine learned by tabular Q-learning.</summary>
    Fsm,
}
