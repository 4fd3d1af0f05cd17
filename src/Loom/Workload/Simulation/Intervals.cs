namespace Loom.Workload.Simulation;

/// <summary>Busy intervals of a device's streams, merged and compared.</summary>
public static class Intervals
{
    /// <summary>Time the communication stream is busy while the compute stream is not.</summary>
    public static double Exposed(List<(double S, double E)> comm, List<(double S, double E)> compute)
    {
        var a = Merge(comm);
        var b = Merge(compute);
        double exposed = 0;
        int j = 0;
        foreach (var (s, e) in a)
        {
            double covered = 0;
            while (j < b.Count && b[j].E <= s) j++;
            for (int k = j; k < b.Count && b[k].S < e; k++) covered += Math.Min(e, b[k].E) - Math.Max(s, b[k].S);
            exposed += e - s - covered;
        }
        return exposed;
    }

    private static List<(double S, double E)> Merge(List<(double S, double E)> spans)
    {
        var sorted = spans.Where(x => x.E > x.S).OrderBy(x => x.S).ToList();
        var r = new List<(double S, double E)>();
        foreach (var x in sorted)
        {
            if (r.Count > 0 && x.S <= r[^1].E) r[^1] = (r[^1].S, Math.Max(r[^1].E, x.E));
            else r.Add(x);
        }
        return r;
    }
}
