using System.Globalization;
using System.Text;

namespace Loom.Cluster.Pipelines;

/// <summary>What <c>loom stream MODEL --cluster</c> is asked: the model, K stages, the window of items in flight, the chunk size.</summary>
/// <param name="Window">Items admitted and not yet handed to the caller (back-pressure); 0 = two per stage.</param>
public sealed record PipelineRequest(string Model, int Stages, IReadOnlyDictionary<string, long>? Dims = null, int Window = 0, int MaxChunkBytes = 4 << 20);

/// <summary>A silo as the planner measured it: seconds for one item through the whole model, and its link from the client.</summary>
public sealed record SiloProbe(string Address, string Name, int Cores, double Seconds, double Slowdown, double LinkLatencySeconds, double LinkSecondsPerByte);

/// <summary>One stage: nodes [First, End) of the line, the tensors it reads and writes, where it was placed first and the predicted seconds an item there.</summary>
public sealed record PipelineStage(int Index, int First, int End, IReadOnlyList<string> Reads, IReadOnlyList<string> Writes, long ReadBytes, string Silo, double PredictedSeconds);

/// <summary>The plan of a pipeline across silos: the probes, the stages, the cut's starts.</summary>
public sealed record PipelinePlan(string Model, int Nodes, double PredictedOneThreadSeconds, IReadOnlyList<SiloProbe> Silos, IReadOnlyList<PipelineStage> Stages)
{
    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv, $"pipeline: {Stages.Count} stage(s) of {Nodes} nodes across {Stages.Select(s => s.Silo).Distinct().Count()} silo(s); one item on one thread predicted {PredictedOneThreadSeconds * 1e3:F2} ms"));
        foreach (var p in Silos)
            sb.AppendLine(string.Create(inv, $"  silo {p.Name} ({p.Address}): {p.Cores} cores, probe {p.Seconds * 1e3:F2} ms/item (x{p.Slowdown:F2} of predicted), link {p.LinkLatencySeconds * 1e3:F2} ms + {p.LinkSecondsPerByte * 1e9:F2} ns/byte"));
        foreach (var s in Stages)
            sb.AppendLine(string.Create(inv, $"  stage{s.Index}: nodes {s.First}..{s.End - 1} on {s.Silo}, predicted {s.PredictedSeconds * 1e3:F2} ms/item, reads {s.Reads.Count} tensor(s) {s.ReadBytes / 1024.0:F0} KiB{(s.Reads.Count <= 3 ? $" ({string.Join(", ", s.Reads)})" : "")}"));
        return sb.ToString();
    }
}

/// <summary>Per stage: the silos it ran on (more than one after a re-placement), items and seconds of model time there.</summary>
public sealed record PipelineStageStats(int Stage, string Silos, int Items, double BusySeconds);

/// <summary>
/// A finished pipeline run: items (each exactly one output), wall seconds, per-stage figures, stages re-placed after a
/// silo was lost, item-stage calls replayed, bytes of tensor messages each way, and duplicate outputs the sink dropped.
/// </summary>
public sealed record PipelineResult(int Items, double Seconds, IReadOnlyList<PipelineStageStats> Stages, int Replacements, int Replayed, long BytesSent, long BytesReceived, int DuplicatesDropped);
