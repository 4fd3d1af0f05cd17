using Loom.IR;

namespace Loom.Passes;

/// <summary>
/// Graph pass (<c>Model → Model</c>, given a schedule's placement): a cheap node whose output is read by
/// nodes the schedule runs on other workers of the same parallel stage gets one copy per such worker,
/// placed just before that worker's first reader, and those readers read the copy. The worker then
/// computes the value itself instead of waiting for it to be made on another core and pulled across:
/// no cross-core edge, as Ramiel's cloning does. Only when every input of the node is ready when the
/// stage starts (graph inputs, constants, values of earlier stages), so a copy never waits either.
///
/// Why it is not in the level pipeline: whether an edge crosses cores is a property of the schedule,
/// which exists only after compilation, at concrete sizes, on a machine profile. So the session runs it
/// (<see cref="Scheduling.NodeClonePlanner"/>): schedule, clone what the schedule says crosses, compile and
/// schedule the cloned graph, and keep it only when its predicted makespan is shorter. It stays a pure
/// function of (model, placement, which nodes are cheap), so it is tested like every other pass.
///
/// Safe because a copy is the same pure node on the same inputs (same kernel, bit for bit the same
/// value) under a fresh name with the original's type; the original keeps its name, its other readers
/// and its graph-output role. Subgraph captures keep reading the original (correct, just not cloned for).
/// </summary>
public static class NodeCloning
{
    /// <summary>Where a schedule runs a node: its stage, and its worker in a parallel stage (-1: wide, or not scheduled).</summary>
    public readonly record struct Placement(int Stage, int Worker);

    /// <param name="placement">Per node of the main graph, where the schedule runs it.</param>
    /// <param name="mayClone">Whether node k is cheap enough to compute twice.</param>
    public static Model Run(Model model, IReadOnlyList<Placement> placement, Func<int, bool> mayClone)
    {
        var g = model.Graph;
        if (placement.Count != g.Nodes.Length) throw new ArgumentException($"placement has {placement.Count} entries for {g.Nodes.Length} nodes", nameof(placement));
        var index = new GraphIndex(g);
        var names = new UniqueNames(g);
        var readers = new Dictionary<string, List<int>>();
        for (int k = 0; k < g.Nodes.Length; k++)
            foreach (var i in g.Nodes[k].Inputs.Distinct())
                if (i.Length > 0) (readers.TryGetValue(i, out var l) ? l : readers[i] = new()).Add(k);

        var clonesBefore = new Dictionary<int, List<Node>>();
        var renames = new Dictionary<int, Dictionary<string, string>>();
        var types = g.ValueTypes.ToBuilder();
        for (int v = 0; v < g.Nodes.Length; v++)
        {
            var n = g.Nodes[v];
            var at = placement[v];
            if (at.Worker < 0 || n.Outputs.Length != 1 || n.Outputs[0].Length == 0 || n.Subgraphs.Any() || !IsPure(n) || !mayClone(v)) continue;
            string output = n.Outputs[0];
            // Inputs made in this stage would make the copy wait in turn: then cloning moves the edge, it does not remove it.
            if (!n.Inputs.All(i => i.Length == 0 || index.ProducerIndex(i) is var q && (q < 0 || placement[q].Stage != at.Stage))) continue;
            if (!readers.TryGetValue(output, out var consumers)) continue;
            var elsewhere = consumers.Where(c => placement[c].Stage == at.Stage && placement[c].Worker >= 0 && placement[c].Worker != at.Worker)
                .GroupBy(c => placement[c].Worker).OrderBy(w => w.Key);
            foreach (var group in elsewhere)
            {
                string copy = names.Derive(output, $"w{group.Key}");
                var clone = n.WithOutputs([copy]).WithName(n.Name.Length > 0 ? $"{n.Name}_w{group.Key}" : "");
                (clonesBefore.TryGetValue(group.Min(), out var l) ? l : clonesBefore[group.Min()] = new()).Add(clone);
                foreach (var c in group) (renames.TryGetValue(c, out var r) ? r : renames[c] = new())[output] = copy;
                if (g.TypeOf(output) is { } t) types[copy] = t;
            }
        }
        if (clonesBefore.Count == 0) return model;

        var nodes = new List<Node>();
        for (int k = 0; k < g.Nodes.Length; k++)
        {
            if (clonesBefore.TryGetValue(k, out var clones)) nodes.AddRange(clones);
            var n = g.Nodes[k];
            nodes.Add(renames.TryGetValue(k, out var map) ? n.WithInputs(n.Inputs.Select(i => map.GetValueOrDefault(i, i))) : n);
        }
        var graph = new Graph(g.Name, g.Inputs, g.Outputs, nodes, g.Initializers, types.ToImmutable());
        return new Model(graph, model.Opsets.Versions, model.IrVersion, model.ProducerName, model.ProducerVersion, model.Domain, model.ModelVersion,
            model.DocString, model.Metadata);
    }

    // Loom's own operators (FusedConv, ElementwiseChain) are pure too.
    private static bool IsPure(Node n) => n.Domain == FuseConvActivation.Domain ? !n.Subgraphs.Any() : OpSemantics.IsPure(n);
}
