using Loom.IR;

namespace Loom.Runtime.Parallel;

/// <summary>
/// Who reads each value of a compiled graph, for runs whose nodes finish in no fixed order: a value is
/// freed when the last of its readers finishes, counted down atomically, instead of after the step that
/// is last in the sequential order. Values the graph keeps (outputs, constants, captures) are never freed.
/// </summary>
internal sealed class ValueLifetimes
{
    public ValueLifetimes(CompiledGraph graph)
    {
        Readers = new int[graph.SlotCount];
        Reads = new int[graph.Steps.Length][];
        DeadOutputs = new int[graph.Steps.Length][];
        var kept = graph.KeptSlots;
        foreach (var step in graph.Steps)
        {
            if (step.IsConstant) { Reads[step.Index] = []; continue; }
            var reads = TopologicalSort.UsedNames(step.Node).Select(n => graph.SlotOf[n]).Where(s => !kept.Contains(s)).Distinct().ToArray();
            foreach (var s in reads) Readers[s]++;
            Reads[step.Index] = reads;
        }
        foreach (var step in graph.Steps)
            DeadOutputs[step.Index] = step.IsConstant ? [] : step.Outputs.Where(s => s >= 0 && !kept.Contains(s) && Readers[s] == 0).Distinct().ToArray();
    }

    /// <summary>Per slot, how many steps read it (0 for kept slots and unread values).</summary>
    public int[] Readers { get; }

    /// <summary>Per step, the freeable slots it reads (each once).</summary>
    public int[][] Reads { get; }

    /// <summary>Per step, its freeable outputs that no step reads: they die as soon as it finishes.</summary>
    public int[][] DeadOutputs { get; }
}
