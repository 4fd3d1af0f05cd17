using System.Globalization;
using System.Text;

namespace Loom.Workload;

/// <summary>An SVG of a sweep: step time (log scale) and scaling efficiency against device count (log₂), one line per strategy family.</summary>
public static class SweepPlot
{
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

    public static string Svg(IReadOnlyList<SweepPoint> points, string title)
    {
        const int W = 900, H = 380, PanelW = 360, PanelH = 260, Top = 60, Left1 = 70, Left2 = 530;
        var sb = new StringBuilder();
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        sb.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">");
        sb.AppendLine($"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>");
        sb.AppendLine($"<text x=\"{W / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>");
        if (points.Count == 0) { sb.AppendLine("</svg>"); return sb.ToString(); }
        double maxN = points.Max(p => p.Devices);
        double lx(double n) => Math.Log2(n) / Math.Max(1, Math.Log2(maxN));
        double tMin = Math.Log10(points.Min(p => p.Report.StepSeconds)), tMax = Math.Log10(points.Max(p => p.Report.StepSeconds));
        if (tMax - tMin < 1e-9) { tMin -= 0.5; tMax += 0.5; }
        double effMax = Math.Max(1.05, points.Max(p => p.Efficiency) * 1.05);
        var families = points.Select(p => p.Family).Distinct().ToList();

        void Panel(int left, string ylabel, Func<SweepPoint, double> y, Func<double, string> tick, double[] ticks)
        {
            sb.AppendLine($"<rect x=\"{left}\" y=\"{Top}\" width=\"{PanelW}\" height=\"{PanelH}\" fill=\"none\" stroke=\"#333\"/>");
            sb.AppendLine($"<text x=\"{left - 48}\" y=\"{Top + PanelH / 2}\" transform=\"rotate(-90 {left - 48} {Top + PanelH / 2})\" text-anchor=\"middle\">{ylabel}</text>");
            sb.AppendLine($"<text x=\"{left + PanelW / 2}\" y=\"{Top + PanelH + 36}\" text-anchor=\"middle\">devices</text>");
            for (double n = 1; n <= maxN; n *= 2)
            {
                double x = left + lx(n) * PanelW;
                sb.AppendLine($"<line x1=\"{F(x)}\" y1=\"{Top + PanelH}\" x2=\"{F(x)}\" y2=\"{Top + PanelH + 4}\" stroke=\"#333\"/><text x=\"{F(x)}\" y=\"{Top + PanelH + 18}\" text-anchor=\"middle\" font-size=\"10\">{n}</text>");
            }
            foreach (var t in ticks)
            {
                double yy = Top + PanelH * (1 - t);
                sb.AppendLine($"<line x1=\"{left}\" y1=\"{F(yy)}\" x2=\"{left + PanelW}\" y2=\"{F(yy)}\" stroke=\"#ddd\"/><text x=\"{left - 4}\" y=\"{F(yy + 4)}\" text-anchor=\"end\" font-size=\"10\">{tick(t)}</text>");
            }
            for (int f = 0; f < families.Count; f++)
            {
                var pts = points.Where(p => p.Family == families[f]).OrderBy(p => p.Devices).ToList();
                var path = string.Join(" ", pts.Select(p => $"{F(left + lx(p.Devices) * PanelW)},{F(Top + PanelH * (1 - y(p)))}"));
                sb.AppendLine($"<polyline points=\"{path}\" fill=\"none\" stroke=\"{Colors[f % Colors.Length]}\" stroke-width=\"2\"/>");
                foreach (var p in pts)
                    sb.AppendLine($"<circle cx=\"{F(left + lx(p.Devices) * PanelW)}\" cy=\"{F(Top + PanelH * (1 - y(p)))}\" r=\"2.5\" fill=\"{Colors[f % Colors.Length]}\"/>");
            }
        }
        double TimeY(SweepPoint p) => (Math.Log10(p.Report.StepSeconds) - tMin) / (tMax - tMin);
        var timeTicks = Enumerable.Range(0, 5).Select(i => i / 4.0).ToArray();
        Panel(Left1, "step time (ms)", TimeY, t => F(Math.Pow(10, tMin + t * (tMax - tMin)) * 1e3), timeTicks);
        Panel(Left2, "efficiency", p => p.Efficiency / effMax, t => F(t * effMax), timeTicks);
        for (int f = 0; f < families.Count; f++)
            sb.AppendLine($"<rect x=\"{Left1 + 10 + f * 110}\" y=\"38\" width=\"12\" height=\"4\" fill=\"{Colors[f % Colors.Length]}\"/><text x=\"{Left1 + 26 + f * 110}\" y=\"44\">{Escape(families[f])}</text>");
        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
