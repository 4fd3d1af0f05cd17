using System.Diagnostics;
using Loom.IR;

namespace Loom.Scheduling;

/// <summary>
/// Short measurements of Loom's own kernels on this machine: a few cases per <see cref="KernelClass"/>
/// on one thread and on all intra-op threads (fitted by <see cref="TimingFit"/>), how much slower one thread runs
/// beside the others, common operators alone on one thread, and the cost of reading data another core just wrote.
/// Each case is timed best of a few runs in each of several rounds spread over the whole probe: the machine may be
/// busy, load only ever slows a kernel, and the best time is the kernel's own.
/// </summary>
internal static class MachineProbes
{
    // Best of three per round, three rounds: this VM's second core slows down for seconds at a time, and other processes
    // come and go. Best of five in one go still caught a burst now and then: one profile, its FMA checks before and after
    // quiet (2.00×), had every 3×3 and strided convolution at 1.00× on two threads, and scheduled ResNet-50's downsampling
    // branches side by side (3 parallel stages); rounds a class apart see different moments.
    private const int Repeats = 3, Rounds = 3;

    // Kernels are compiled first without optimization (.NET's tiered JIT; TensorPrimitives' loops and generic kernels have no
    // precompiled code), and optimized only after 30 calls counted once 100 ms pass without a new method compiled — which never
    // happens while a probe keeps making sessions. Timed so, every operator probe read 15–65× slower than with the JIT's tiering
    // off (Sigmoid 3.6 ns a byte against 0.055, Add 0.13 against 0.009) and elementwise chains 6×; PP-OCRv4's output Sigmoid was
    // predicted at 4.9–11.7 ms against 0.17 measured. So every case runs WarmRuns times (operators three times as many), four times over,
    // each followed by a pause with nothing compiled, before any timing: with dynamic PGO a method is recompiled twice, and two
    // passes still left Sigmoid and Tanh 2–5× slow.
    private const int WarmRuns = 32, TierUpPauseMilliseconds = 200, TierUpPasses = 4;

    public static MachineProfile Run(string machine, int threads)
    {
        var classes = Enum.GetValues<KernelClass>();
        var cases = classes.Select(ProbeModels.ClassCases).ToArray();
        var single = new TimingFit.Sample?[classes.Length][];
        var wide = new TimingFit.Sample?[classes.Length][];
        var alone = new double[classes.Length];
        var together = new double[classes.Length];
        Array.Fill(alone, double.MaxValue);
        Array.Fill(together, double.MaxValue);
        using var sessions = new ProbeSessions();
        var opCases = ProbeModels.OperatorCases().ToArray();
        var opBest = new TimingFit.Sample?[opCases.Length];
        for (int pass = 0; pass < TierUpPasses; pass++)
        {
            foreach (var probe in cases.SelectMany(c => c)) sessions.Warm(probe, 1, WarmRuns);
            foreach (var probe in opCases) sessions.Warm(probe, 1, 3 * WarmRuns); // tens of microseconds each, and chains of helpers to tier up
            if (threads > 1) foreach (var probe in cases.SelectMany(c => c.Take(2))) sessions.Warm(probe, threads, WarmRuns);
            Thread.Sleep(TierUpPauseMilliseconds);
        }
        for (int round = 0; round < Rounds; round++)
        {
            foreach (var cls in classes)
            {
                int c = (int)cls;
                single[c] ??= new TimingFit.Sample?[cases[c].Count];
                wide[c] ??= new TimingFit.Sample?[2];
                for (int i = 0; i < cases[c].Count; i++) Keep(ref single[c][i], sessions.Measure(cases[c][i], 1));
                if (threads == 1) continue;
                for (int i = 0; i < 2; i++) Keep(ref wide[c][i], sessions.Measure(cases[c][i], threads));
                var (a, t) = sessions.Beside(cases[c][1], threads);
                alone[c] = Math.Min(alone[c], a);
                together[c] = Math.Min(together[c], t);
            }
            for (int k = 0; k < opCases.Length; k++) Keep(ref opBest[k], sessions.Measure(opCases[k], 1));
        }
        var singleTimings = new KernelTiming[classes.Length];
        var wideTimings = new KernelTiming[classes.Length];
        var beside = new double[classes.Length];
        foreach (var cls in classes)
        {
            int c = (int)cls;
            singleTimings[c] = TimingFit.Fit(single[c].Select(x => x!.Value).ToArray());
            wideTimings[c] = threads > 1 ? Scaled(singleTimings[c], wide[c].Select(x => x!.Value).ToArray(), threads) : singleTimings[c];
            beside[c] = threads > 1 ? Math.Max(1, together[c] / alone[c]) : 1;
        }
        var ops = new Dictionary<string, KernelTiming>();
        for (int k = 0; k < opCases.Length; k++)
        {
            var (probe, s) = (opCases[k], opBest[k]!.Value);
            var cls = singleTimings[(int)CostModel.Classify(probe.Model.Graph.Nodes[0], probe.Model.Graph)];
            ops[probe.Model.Graph.Nodes[0].OpType] = cls with { SecondsPerWork = Math.Max(s.Seconds - cls.OverheadSeconds, 0) / Math.Max(s.Work, 1) };
        }
        return new MachineProfile
        {
            Machine = machine, Threads = threads, Single = singleTimings, Wide = wideTimings, Beside = beside, Ops = ops, Transfer = TransferProbe.Run(),
            MemoryBytesPerSecond = MemoryProbe.Run(CacheSizes.LastLevelBytes()),
        };
    }

    /// <summary>How a probe case's session runs: its one node as given (no passes), sequentially, on <paramref name="pool"/>'s threads.</summary>
    internal static LoomSessionOptions SessionOptions(int threads, Runtime.Threading.WorkerPool? pool) => new()
    {
        IntraOpThreads = threads, ExecutionMode = ExecutionMode.Sequential, OptimizationLevel = 0, MachineProfile = MachineProfile.Fixed(threads),
        SharedPool = pool,
    };

    private static void Keep(ref TimingFit.Sample? best, TimingFit.Sample s)
    {
        if (best is not { } b || s.Seconds < b.Seconds) best = s;
    }

    /// <summary>
    /// The all-threads timing as the one-thread timing sped up k-fold plus a fixed cost (waking the threads): two
    /// coefficients from the two cases. A free fit of three coefficients to two cases extrapolated wildly: one put all
    /// of a 1×1 convolution's time on its packed bytes (none on its FLOPs), so a fully connected layer streaming 151 MB of
    /// weights was predicted 5.7× slower on two threads than on one.
    /// </summary>
    private static KernelTiming Scaled(KernelTiming single, IReadOnlyList<TimingFit.Sample> wide, int threads)
    {
        var asSingle = wide.Select(s => new TimingFit.Sample(single.Seconds(s.Work, s.PackedBytes) - single.OverheadSeconds, 0, s.Seconds)).ToArray();
        var fit = TimingFit.Fit(asSingle);
        double k = double.IsFinite(fit.SecondsPerWork) ? Math.Clamp(fit.SecondsPerWork, 1.0 / threads, 1) : 1;
        return new KernelTiming(fit.OverheadSeconds, single.SecondsPerWork * k, single.SecondsPerPackedByte * k);
    }

    /// <summary>
    /// The probes' sessions, made on first use and kept for the later rounds (warm, weights packed). Those with several
    /// threads share one pool: each pool's idle workers spin a while after a run, and kept pools of their own would take
    /// cores from the next probe's threads.
    /// </summary>
    private sealed class ProbeSessions : IDisposable
    {
        private readonly Dictionary<(ProbeModels.Probe, int), LoomSession> _sessions = new();
        private readonly Dictionary<ProbeModels.Probe, LoomSession[]> _copies = new();
        private readonly Dictionary<int, Runtime.Threading.WorkerPool> _pools = new();

        private LoomSession Create(ProbeModels.Probe probe, int threads)
        {
            Runtime.Threading.WorkerPool? pool = null;
            if (threads > 1 && !_pools.TryGetValue(threads, out pool)) _pools[threads] = pool = new Runtime.Threading.WorkerPool(threads);
            return LoomSession.Create(probe.Model, SessionOptions(threads, pool));
        }

        private static Dictionary<string, LoomValue> Inputs(LoomSession session) =>
            new() { [session.Inputs[0].Name] = ProbeModels.Input(session.Inputs[0]) };

        /// <summary>Runs the case <paramref name="runs"/> times untimed (its session made on first use).</summary>
        public void Warm(ProbeModels.Probe probe, int threads, int runs)
        {
            var session = Session(probe, threads);
            var inputs = Inputs(session);
            for (int r = 0; r < runs; r++) session.Run(inputs).Dispose();
        }

        private LoomSession Session(ProbeModels.Probe probe, int threads)
        {
            if (!_sessions.TryGetValue((probe, threads), out var session))
            {
                _sessions[(probe, threads)] = session = Create(probe, threads);
                session.Run(Inputs(session)).Dispose();
            }
            return session;
        }

        /// <summary>Work, packed bytes and best seconds of one node of the case.</summary>
        public TimingFit.Sample Measure(ProbeModels.Probe probe, int threads)
        {
            var session = Session(probe, threads);
            var inputs = Inputs(session);
            double best = double.MaxValue;
            for (int r = 0; r < Repeats; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                session.Run(inputs).Dispose();
                best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
            var g = session.Model.Graph;
            var cost = CostModel.Measure(g.Nodes[0], g, _ => null);
            return new TimingFit.Sample(cost.Work, cost.PackedBytes, best / g.Nodes.Length);
        }

        /// <summary>
        /// Best seconds of the case on one thread alone, and on one thread while every other thread runs a copy of it at the
        /// same moment (starts together, averaged over the threads), runs of the two interleaved: their ratio is what the
        /// cores share (caches, memory bandwidth, the VM's placement of its vCPUs) costing the nodes of a parallel stage and
        /// the copies of a split batch.
        /// </summary>
        public (double Alone, double Together) Beside(ProbeModels.Probe probe, int threads)
        {
            // A first untimed round warms fresh copies on the threads that run them.
            int first = 0;
            if (!_copies.TryGetValue(probe, out var sessions))
            {
                _copies[probe] = sessions = Enumerable.Range(0, threads).Select(_ => Create(probe, 1)).ToArray();
                first = -1;
            }
            var inputs = Inputs(sessions[0]);
            double alone = double.MaxValue;
            var together = Enumerable.Repeat(double.MaxValue, threads).ToArray();
            // Each copy stays on its own thread for all its runs: a copy whose buffers another core touched last would time that
            // core's cache lines moving over (a 20 µs max pool read 1.4× slower).
            using var start = new Barrier(threads);
            using var end = new Barrier(threads);
            void Rounds(int t)
            {
                for (int r = first; r < Repeats; r++)
                {
                    start.SignalAndWait();
                    long t0 = Stopwatch.GetTimestamp();
                    sessions[t].Run(inputs).Dispose();
                    if (r >= 0) together[t] = Math.Min(together[t], Stopwatch.GetElapsedTime(t0).TotalSeconds);
                    end.SignalAndWait();
                }
            }
            var others = Enumerable.Range(1, threads - 1).Select(t => new Thread(() => Rounds(t)) { IsBackground = true }).ToArray();
            foreach (var th in others) th.Start();
            for (int r = first; r < Repeats; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                sessions[0].Run(inputs).Dispose();
                if (r >= 0) alone = Math.Min(alone, Stopwatch.GetElapsedTime(t0).TotalSeconds);
                start.SignalAndWait();
                t0 = Stopwatch.GetTimestamp();
                sessions[0].Run(inputs).Dispose();
                if (r >= 0) together[0] = Math.Min(together[0], Stopwatch.GetElapsedTime(t0).TotalSeconds);
                end.SignalAndWait();
            }
            foreach (var th in others) th.Join();
            return (alone, together.Average());
        }

        public void Dispose()
        {
            foreach (var s in _sessions.Values) s.Dispose();
            foreach (var s in _copies.Values.SelectMany(x => x)) s.Dispose();
            foreach (var p in _pools.Values) p.Dispose();
        }
    }
}
