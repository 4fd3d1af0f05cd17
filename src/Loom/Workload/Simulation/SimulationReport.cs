namespace Loom.Workload.Simulation;

/// <summary>One simulated rank: busy time per stream, communication not hidden behind compute, peak memory.</summary>
public sealed record RankReport(int Rank, int Multiplicity, double ComputeSeconds, double CommSeconds, double ExposedCommSeconds,
    double Utilisation, long PeakMemoryBytes, long Flops, double[] NodeStart, double[] NodeEnd);

/// <summary>What a simulated step took.</summary>
public sealed record SimulationReport(double StepSeconds, IReadOnlyList<RankReport> Ranks, long TotalFlops, double FlopUtilisation)
{
    public double MeanUtilisation => Ranks.Sum(r => r.Utilisation * r.Multiplicity) / Math.Max(1, Ranks.Sum(r => r.Multiplicity));
    public double MaxExposedComm => Ranks.Count == 0 ? 0 : Ranks.Max(r => r.ExposedCommSeconds);
    public long MaxPeakMemory => Ranks.Count == 0 ? 0 : Ranks.Max(r => r.PeakMemoryBytes);
}
