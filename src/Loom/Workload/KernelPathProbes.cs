using System.Diagnostics;
using Loom.Conformance;
using Loom.IR;
using Loom.Runtime;
using Loom.Scheduling;

namespace Loom.Workload;

/// <summary>
/// Times Loom's kernels on this machine, path by path: a few small networks of typical CNN layers (stems,
/// 3×3 and 1×1 convolutions at several widths and resolutions, pre-activated convolutions, strided 1×1,
/// pools, LRN, concatenations, normalizations, a classifier) run with a trace, every node giving one
/// sample (its path's work, its median time over the rounds). With one thread a node is timed by the thread's
/// CPU time (what validation measures, and immune to other processes); with more, by elapsed time. The networks
/// are synthetic; no model being validated is run. The sessions stay open and run in rounds, one run of every
/// network per round, so that a caller can put its own runs between the rounds (<see cref="Validation"/> does):
/// a machine whose speed drifts (this VM's two vCPUs are at times placed far apart for minutes, and every
/// two-thread kernel slows by a third) is then seen alike by the probes and by what they predict.
/// </summary>
internal sealed class KernelPathProbes : IDisposable
{
    /// <summary>Rounds when nobody interleaves runs of their own.</summary>
    internal const int Runs = 5;

    private readonly List<Probe> _probes = new();
    private readonly RunTrace _trace = new();
    private readonly int _threads;
    private readonly bool _cpu;

    private sealed record Probe(LoomSession Session, Dictionary<string, LoomValue> Feeds, Dictionary<string, List<double>> PerNode, List<double> Gaps);

    /// <param name="pool">Threads shared with the caller's sessions (null: one pool of the probes' own).</param>
    public KernelPathProbes(int threads, Runtime.Threading.WorkerPool? pool)
    {
        _threads = threads;
        _cpu = threads == 1 && CpuClock.Available;
        try
        {
            foreach (var model in Networks())
            {
                var options = new LoomSessionOptions
                {
                    IntraOpThreads = threads, ExecutionMode = ExecutionMode.Sequential, MachineProfile = MachineProfile.Fixed(threads), SharedPool = pool,
                };
                var session = LoomSession.Create(model, options);
                var feeds = session.Inputs.ToDictionary(i => i.Name, i => (LoomValue)ConformanceRunner.DeterministicInput(i, _ => 1));
                _probes.Add(new Probe(session, feeds, new Dictionary<string, List<double>>(), new List<double>()));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Runs every network until its kernels are tiered up (<see cref="WarmUp(LoomSession, IReadOnlyDictionary{string, LoomValue}, TimeSpan)"/>).</summary>
    public void WarmUp()
    {
        foreach (var p in _probes) WarmUp(p.Session, p.Feeds, TimeSpan.FromMilliseconds(200));
    }

    /// <summary>One timed run of every network: one more sample per node.</summary>
    public void RunRound()
    {
        foreach (var p in _probes)
        {
            double c0 = CpuClock.Now(_threads);
            long t0 = Stopwatch.GetTimestamp();
            p.Session.Run(p.Feeds, _trace).Dispose();
            double total = _cpu ? CpuClock.Now(_threads) - c0 : Stopwatch.GetElapsedTime(t0).TotalSeconds;
            double sum = 0;
            foreach (var e in _trace.Events)
            {
                double s = (_cpu ? e.CpuMicroseconds : e.DurationMicroseconds) * 1e-6;
                sum += s;
                if (!p.PerNode.TryGetValue(e.Node, out var l)) p.PerNode[e.Node] = l = new List<double>();
                l.Add(s);
            }
            p.Gaps.Add(total - sum);
        }
    }

    /// <summary>Per-node samples (median over the rounds) and, per network, (nodes, median of run seconds − Σ node seconds): the executor's share.</summary>
    public (List<KernelPathSample> Nodes, List<(int Nodes, double Seconds)> Runs) Samples()
    {
        var samples = new List<KernelPathSample>();
        var runs = new List<(int, double)>();
        foreach (var p in _probes)
        {
            if (p.Gaps.Count == 0) continue;
            var g = p.Session.Model.Graph;
            var dims = (Func<string, long?>)(_ => null);
            foreach (var n in g.Nodes)
            {
                if (!p.PerNode.TryGetValue(RunTrace.LabelOf(n), out var l)) continue; // computed once, not a step's work
                var w = KernelPaths.Of(n, g, dims);
                samples.Add(new KernelPathSample(w.Op, w.Path, w.Macs, w.Bytes, Median(l)));
            }
            runs.Add((p.PerNode.Count, Median(p.Gaps)));
        }
        return (samples, runs);
    }

    /// <summary>The probes alone: warm up, then <see cref="Runs"/> rounds.</summary>
    public static (List<KernelPathSample> Nodes, List<(int Nodes, double Seconds)> Runs) Measure(int threads)
    {
        using var pool = new Runtime.Threading.WorkerPool(threads);
        using var probes = new KernelPathProbes(threads, pool);
        probes.WarmUp();
        for (int r = 0; r < Runs; r++) probes.RunRound();
        return probes.Samples();
    }

    public void Dispose()
    {
        foreach (var p in _probes) p.Session.Dispose();
        _probes.Clear();
    }

    /// <summary>
    /// Runs a session until the JIT has tiered its kernels up: tiered compilation recompiles a method after 30 calls, on a
    /// background thread, so timing after one or two calls measures tier-0 code (a 2-thread ResNet-50 at 120–134 ms
    /// instead of 44, an LRN probe a third slower) and the recompiling thread competes with the timed runs.
    /// </summary>
    internal static void WarmUp(LoomSession session, IReadOnlyDictionary<string, LoomValue> feeds, TimeSpan atLeast)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 30 || clock.Elapsed < atLeast; i++) session.Run(feeds).Dispose();
    }

    /// <summary>
    /// The probe networks: one per input resolution, each layer reading the input or the layer before. Every branch ends
    /// in a global average pool, so the layers timed write intermediate values from the session's buffer pool, as in a
    /// model, not fresh graph outputs (whose first-touch page faults would be timed too).
    /// </summary>
    internal static IEnumerable<Model> Networks()
    {
        {   // stem: 7×7 stride 2, then max pooling and LRN
            var n = new ProbeNet(3, 112);
            var y = n.Relu(n.Conv(n.Input, 64, 7, stride: 2));
            yield return Outputs(n, n.Pool("MaxPool", y, 3, 2, 1), n.Lrn(y));
        }
        {   // full-resolution stems (ResNet's and Inception's 7×7, SqueezeNet's 3×3, both stride 2): 3 MB written from a
            // 600 KB input, which the probes above (all at most 56×56 out) would otherwise extrapolate to
            var n = new ProbeNet(3, 224);
            yield return Outputs(n, n.Relu(n.Conv(n.Input, 64, 7, stride: 2)), n.Relu(n.Conv(n.Input, 64, 3, stride: 2)));
        }
        {
            var n = new ProbeNet(64, 56);
            var x = n.Input;
            yield return Outputs(n, n.Relu(n.Conv(x, 64, 3)), n.Relu(n.Conv(x, 64, 1)), n.Conv(x, 256, 1), n.Conv(x, 128, 1, stride: 2), n.Conv(x, 256, 1, stride: 2),
                n.Pool("MaxPool", x, 3, 2, 1), n.Pool("AveragePool", x, 2, 2), n.Relu(n.Sum(x, x)), n.BatchNorm(x));
        }
        foreach (var (c, size) in new[] { (128, 28), (256, 14), (512, 7) })
        {
            var n = new ProbeNet(c, size);
            var x = n.Input;
            var pre = n.Relu(n.BatchNorm(x));
            var bottleneck = n.Relu(n.Conv(pre, 128, 1));
            var growth = n.Conv(n.Relu(n.BatchNorm(bottleneck)), 32, 3);
            var sum = n.Sum(x, x);
            yield return Outputs(n, n.Relu(n.Conv(x, 32, 3)), n.Relu(n.Conv(x, c / 2, 3)), n.Relu(n.Conv(x, 2 * c / 3, 1)), n.Relu(n.Conv(x, 64, 1)),
                n.Relu(n.Conv(x, 32, 5)), n.Conv(x, 2 * c, 1, stride: 2), n.Concat(x, growth), n.Concat(x, growth, growth),
                n.Pool("AveragePool", x, 2, 2), n.Pool("MaxPool", x, 3, 1, 1), n.Pool("MaxPool", x, 3, 2, 1), n.Relu(sum), n.BatchNorm(sum),
                n.Pool("AveragePool", x, 3, 1, 1));
        }
        {   // wide activations: 1×1 products whose operands outgrow the caches, strided 1×1 (im2col), normalizations at 3 MB
            var n = new ProbeNet(256, 56);
            var x = n.Input;
            yield return Outputs(n, n.Relu(n.Conv(x, 64, 1)), n.Conv(x, 128, 1, stride: 2), n.Conv(x, 384, 1, stride: 2), n.BatchNorm(x),
                n.Pool("MaxPool", x, 3, 2, 1), n.Pool("AveragePool", x, 2, 2), n.Concat(x, n.Relu(n.Conv(x, 32, 3))), n.Relu(n.Sum(x, x)), n.Lrn(x));
        }
        {   // a last-stage bottleneck (few positions, 1–9 MB of weights each, beyond the 512-channel probe's 4.7 MB)
            var n = new ProbeNet(2048, 7);
            var e = n.Relu(n.Conv(n.Input, 512, 1));
            yield return Outputs(n, n.Relu(n.Conv(e, 512, 3)), n.Conv(e, 2048, 1));
        }
        {
            var n = new ProbeNet(512, 14);
            yield return Outputs(n, n.Conv(n.Input, 512, 1, stride: 2), n.Relu(n.Conv(n.Input, 256, 1)));
        }
        {   // narrow 1×1 products (few input or output channels: squeeze and expand layers) and odd resolutions
            var n = new ProbeNet(16, 56);
            var e = n.Relu(n.Conv(n.Input, 64, 1));
            yield return Outputs(n, n.Relu(n.Conv(e, 16, 1)), n.Relu(n.Conv(n.Input, 64, 3)), n.Concat(e, e), n.Lrn(n.Input),
                n.Conv(e, 128, 1, stride: 2));
        }
        {
            var n = new ProbeNet(384, 13);
            yield return Outputs(n, n.Relu(n.Conv(n.Input, 256, 1)), n.Relu(n.Conv(n.Input, 48, 1)), n.Relu(n.Conv(n.Input, 128, 3)), n.Lrn(n.Input));
        }
        {
            var n = new ProbeNet(192, 28);
            yield return Outputs(n, n.Lrn(n.Input), n.Relu(n.Conv(n.Input, 16, 1)), n.Relu(n.Conv(n.Input, 96, 1)));
        }
        foreach (var features in new[] { 256, 1024, 2048 }) // classifiers (matrix times vector: bound by the weights' bytes)
        {
            var n = new ProbeNet(features, 1);
            yield return n.Build(n.Classifier(n.Input, features == 256 ? 256 : 1000));
        }
    }

    private static Model Outputs(ProbeNet n, params string[] branches) => n.Build(branches.Select(n.GlobalAveragePool).ToArray());

    internal static double Median(List<double> l)
    {
        var a = l.Order().ToArray();
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }
}
