using Loom.Scheduling;

namespace Loom.Workload;

/// <summary>
/// The speed of this machine's kernels per <see cref="KernelPath"/>, fitted to <see cref="KernelPathProbes"/>:
/// each path's time is a fixed cost per node + seconds per multiply-add + seconds per byte moved
/// (<see cref="KernelTiming"/>: work = multiply-adds, packed bytes = bytes), on one thread and with all
/// <see cref="Threads"/> threads (their ratio is the path's measured intra-op scaling). The executor's own cost is
/// a fixed cost per run plus one per node.
/// </summary>
/// <summary>One probe node: its op, path and work, and the seconds it took.</summary>
public readonly record struct KernelPathSample(string Op, KernelPath Path, double Macs, double Bytes, double Seconds);

public sealed record KernelPathProfile
{
    public required int Threads { get; init; }
    /// <summary>Per <see cref="KernelPath"/> (by its value); null where no probe took the path.</summary>
    public required KernelTiming?[] Paths { get; init; }
    /// <summary>Executor time outside the kernels: overhead = per run, work = per node.</summary>
    public required KernelTiming Executor { get; init; }

    /// <summary>The probe samples the timings were fitted to (for reports: how well each path's line fits).</summary>
    public IReadOnlyList<KernelPathSample> Samples { get; init; } = [];

    /// <summary>Outside the convolution paths, per operator where probes had three nodes of it or more (a Relu moves bytes faster than a BatchNormalization).</summary>
    public IReadOnlyDictionary<string, KernelTiming> Ops { get; init; } = new Dictionary<string, KernelTiming>();

    public double Seconds(KernelWork w) =>
        (!IsConv(w.Path) && Ops.TryGetValue(w.Op, out var own) ? own : Paths[(int)w.Path] ?? Paths[(int)KernelPath.Elementwise] ?? new KernelTiming(0, 0))
        .Seconds(w.Macs, w.Bytes);

    private static bool IsConv(KernelPath p) => p <= KernelPath.ConvDirect;

    private static KernelTiming FitSamples(IEnumerable<KernelPathSample> samples) =>
        TimingFit.Fit(samples.Select(s => new TimingFit.Sample(s.Macs, s.Bytes, Math.Max(s.Seconds, 1e-7))).ToList());

    /// <summary>Fits one timing per path to the samples (least squares on relative error, coefficients non-negative).</summary>
    internal static KernelPathProfile Fit(int threads, IReadOnlyList<KernelPathSample> nodes, IReadOnlyList<(int Nodes, double Seconds)> runs)
    {
        var paths = new KernelTiming?[Enum.GetValues<KernelPath>().Length];
        foreach (var group in nodes.GroupBy(s => s.Path))
            paths[(int)group.Key] = FitSamples(group);
        var ops = nodes.Where(s => !IsConv(s.Path)).GroupBy(s => s.Op).Where(g => g.Count() >= 3).ToDictionary(g => g.Key, FitSamples);
        var executor = TimingFit.Fit(runs.Select(r => new TimingFit.Sample(r.Nodes, 0, Math.Max(r.Seconds, 1e-7))).ToList());
        return new KernelPathProfile { Threads = threads, Paths = paths, Executor = executor with { SecondsPerPackedByte = 0 }, Samples = nodes.ToList(), Ops = ops };
    }

    private static readonly Lock CacheLock = new();
    private static readonly Dictionary<int, KernelPathProfile> Cached = new();

    /// <summary>Probed once per process and thread count (a few seconds), or afresh with <paramref name="fresh"/>.</summary>
    public static KernelPathProfile ForThisMachine(int threads, bool fresh = false)
    {
        lock (CacheLock)
        {
            if (!fresh && Cached.TryGetValue(threads, out var known)) return known;
            var (nodes, runs) = KernelPathProbes.Measure(threads);
            return Cached[threads] = Fit(threads, nodes, runs);
        }
    }
}
