using Loom.IR;
using Loom.Passes;
using Loom.Runtime;
using Loom.Runtime.Parallel;

namespace Loom.Scheduling;

/// <summary>
/// Decides what <see cref="NodeCloning"/> copies for a schedule: the placement is the plan's (stage and
/// worker of every step), and a node may be copied when the cost model predicts that computing it again
/// (its one-thread time) costs no more than moving its output across cores (signalling latency + bytes ×
/// the cross-core rate). The session compiles and schedules the result and keeps it only when its
/// predicted makespan is shorter (see <see cref="LoomSession"/>).
/// </summary>
internal static class NodeClonePlanner
{
    /// <summary>The model with cheap cross-worker values cloned, or null when there is nothing to clone.</summary>
    public static Model? Propose(Model model, CompiledGraph graph, ParallelPlan plan, CostModel cost, Func<string, long?> dims)
    {
        if (plan.Hyper is not null || !plan.IsParallel) return null;
        var placement = Enumerable.Repeat(new NodeCloning.Placement(-1, -1), graph.Steps.Length).ToArray();
        for (int s = 0; s < plan.Stages.Length; s++)
        {
            var stage = plan.Stages[s];
            for (int w = 0; w < stage.Steps.Length; w++)
                foreach (var step in stage.Steps[w]) placement[step] = new NodeCloning.Placement(s, stage.IsParallel ? w : -1);
        }
        var seconds = new double[graph.Steps.Length];
        for (int i = 0; i < plan.Dataflow.Steps.Length; i++) seconds[plan.Dataflow.Steps[i]] = plan.Dataflow.Costs[i].Seconds;
        bool Cheap(int k)
        {
            var node = model.Graph.Nodes[k];
            return node.Outputs.Length == 1 && seconds[k] <= cost.Transfer(CostModel.BytesOf(node.Outputs[0], model.Graph, dims));
        }
        var cloned = NodeCloning.Run(model, placement, Cheap);
        return ReferenceEquals(cloned, model) ? null : cloned;
    }
}
