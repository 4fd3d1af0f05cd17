using System.Globalization;
using System.Security;
using System.Text;
using Loom.Runtime.Parallel;

namespace Loom.Cli.Commands;

/// <summary>A schedule as a Gantt chart: one row per worker, a bar per node at its predicted time (wide nodes span every row).</summary>
internal static class ScheduleSvg
{
    private const double Width = 1200, Left = 80, Row = 36, Top = 40;

    public static string Draw(ParallelPlan plan, string title)
    {
        var s = plan.Schedule;
        var df = plan.Dataflow;
        double span = Math.Max(s.PredictedMakespan, 1e-9), scale = (Width - Left - 20) / span;
        double height = Top + Row * s.Workers + 30;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height:F0}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        sb.Append(inv, $"<text x=\"10\" y=\"20\" font-size=\"14\">{Escape(title)}: predicted {span * 1000:F2} ms on {s.Workers} workers, speedup {s.PredictedSpeedup:F2}x (bound {s.SpeedupBound:F2})</text>\n");
        for (int w = 0; w < s.Workers; w++)
            sb.Append(inv, $"<text x=\"10\" y=\"{Top + Row * w + Row / 2 + 4:F0}\">worker {w}</text>\n");
        var critical = s.CriticalPath.ToHashSet();
        for (int v = 0; v < df.Graph.Count; v++)
        {
            double x = Left + s.Start[v] * scale, width = Math.Max((s.Finish[v] - s.Start[v]) * scale, 0.5);
            int firstRow = s.Threads[v] > 1 ? 0 : s.WorkerOf[v], rows = s.Threads[v] > 1 ? s.Workers : 1;
            double y = Top + Row * firstRow + 2, h = Row * rows - 4;
            string stroke = critical.Contains(v) ? " stroke=\"#c00\" stroke-width=\"1.5\"" : " stroke=\"#fff\" stroke-width=\"0.5\"";
            sb.Append(inv, $"<rect x=\"{x:F2}\" y=\"{y:F1}\" width=\"{width:F2}\" height=\"{h:F1}\" fill=\"{Color(df.OpTypes[v])}\"{stroke}>");
            sb.Append(inv, $"<title>{Escape(df.Labels[v])} ({df.OpTypes[v]}) {s.Start[v] * 1000:F3}-{s.Finish[v] * 1000:F3} ms, {s.Threads[v]} thread(s)</title></rect>\n");
        }
        sb.Append(inv, $"<text x=\"{Left}\" y=\"{height - 8:F0}\">0 ms</text><text x=\"{Width - 90}\" y=\"{height - 8:F0}\">{span * 1000:F2} ms</text>\n");
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string Color(string op)
    {
        int h = 0;
        foreach (var c in op) h = h * 31 + c;
        return $"hsl({(h & 0x7fffffff) % 360},55%,60%)";
    }

    private static string Escape(string s) => SecurityElement.Escape(s) ?? "";
}
