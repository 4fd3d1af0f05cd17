using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Loom.Workload.Simulation;

/// <summary>
/// A simulated step in Chrome's Trace Event Format (chrome://tracing, ui.perfetto.dev), the format of
/// Loom's measured run traces: one process per simulated rank, a compute and a communication track.
/// </summary>
public static class SimulationTrace
{
    public static string ToChromeJson(Workload workload, SimulationReport report)
    {
        var sb = new StringBuilder("{\"traceEvents\":[\n");
        bool first = true;
        void Item(string json)
        {
            if (!first) sb.Append(",\n");
            sb.Append(json);
            first = false;
        }
        for (int r = 0; r < workload.Ranks.Count; r++)
        {
            var w = workload.Ranks[r];
            var rep = report.Ranks[r];
            Item($"{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":{w.Rank},\"args\":{{\"name\":\"rank {w.Rank}\"}}}}");
            Item($"{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":{w.Rank},\"tid\":0,\"args\":{{\"name\":\"compute\"}}}}");
            Item($"{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":{w.Rank},\"tid\":1,\"args\":{{\"name\":\"communication\"}}}}");
            for (int i = 0; i < w.Nodes.Count; i++)
            {
                var n = w.Nodes[i];
                int tid = n.IsComm ? 1 : 0;
                double start = rep.NodeStart[i] * 1e6, dur = (rep.NodeEnd[i] - rep.NodeStart[i]) * 1e6;
                Item(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"name\":{Quote(n.Name)},\"cat\":{Quote(n.Op)},\"ph\":\"X\",\"pid\":{w.Rank},\"tid\":{tid},\"ts\":{start:F3},\"dur\":{dur:F3},\"args\":{{\"flops\":{n.Flops},\"bytes\":{n.CommBytes + n.BytesRead + n.BytesWritten}}}}}"));
            }
        }
        sb.Append("\n],\"displayTimeUnit\":\"ms\"}\n");
        return sb.ToString();
    }

    private static string Quote(string s) => JsonSerializer.Serialize(s);
}
