using System.Diagnostics;
using Loom.IR;

namespace Loom.Scheduling;

/// <summary>
/// Short measurements of Loom's own kernels on this machine: a few cases per <see cref="KernelClass"/>
/// on one thread and on all intra-op threads (fitted by <see cref="TimingFit"/>), common operators alone
/// on one thread, and the cost of reading data another core just wrote. Each case is timed best of a
/// few runs: the machine may be busy, and the best time is the kernel's own.
/// </summary>
internal static class MachineProbes
{
    // Best of five: this VM's second core slows down for seconds at a time, and best of two often saw only the slow state.
    private const int Repeats = 5;

    public static MachineProfile Run(string machine, int threads)
    {
        int classes = Enum.GetValues<KernelClass>().Length;
        var single = new KernelTiming[classes];
        var wide = new KernelTiming[classes];
        var beside = new double[classes];
        foreach (KernelClass cls in Enum.GetValues<KernelClass>())
        {
            var cases = ProbeModels.ClassCases(cls);
            single[(int)cls] = TimingFit.Fit(cases.Select(c => Measure(c, 1)).ToArray());
            wide[(int)cls] = threads > 1 ? Scaled(single[(int)cls], cases.Take(2).Select(c => Measure(c, threads)).ToArray(), threads) : single[(int)cls];
            beside[(int)cls] = threads > 1 ? Beside(cases[1], threads) : 1;
        }
        var ops = new Dictionary<string, KernelTiming>();
        foreach (var probe in ProbeModels.OperatorCases())
        {
            var s = Measure(probe, 1);
            var cls = single[(int)CostModel.Classify(probe.Model.Graph.Nodes[0], probe.Model.Graph)];
            ops[probe.Model.Graph.Nodes[0].OpType] = cls with { SecondsPerWork = Math.Max(s.Seconds - cls.OverheadSeconds, 0) / Math.Max(s.Work, 1) };
        }
        return new MachineProfile { Machine = machine, Threads = threads, Single = single, Wide = wide, Beside = beside, Ops = ops, Transfer = TransferProbe.Run() };
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
    /// How much slower one thread runs the case while every other thread runs a copy of it at the same moment (best of
    /// <see cref="Repeats"/> starts together, averaged over the threads) than alone (best of as many runs, interleaved with
    /// them): what the cores share (caches, memory bandwidth, the VM's placement of its vCPUs) costs the nodes of a parallel
    /// stage and the copies of a split batch. At least 1.
    /// </summary>
    private static double Beside(ProbeModels.Probe probe, int threads)
    {
        var sessions = new LoomSession[threads];
        try
        {
            var options = new LoomSessionOptions
            {
                IntraOpThreads = 1, ExecutionMode = ExecutionMode.Sequential, OptimizationLevel = 0, MachineProfile = MachineProfile.Fixed(1),
            };
            for (int t = 0; t < threads; t++) sessions[t] = LoomSession.Create(probe.Model, options);
            var x = sessions[0].Inputs[0];
            var inputs = new Dictionary<string, LoomValue> { [x.Name] = ProbeModels.Input(x) };
            foreach (var s in sessions) s.Run(inputs).Dispose();
            double alone = double.MaxValue;
            var together = Enumerable.Repeat(double.MaxValue, threads).ToArray();
            using var start = new Barrier(threads);
            void Together(int t)
            {
                start.SignalAndWait();
                long t0 = Stopwatch.GetTimestamp();
                sessions[t].Run(inputs).Dispose();
                together[t] = Math.Min(together[t], Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
            for (int r = 0; r < Repeats; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                sessions[0].Run(inputs).Dispose();
                alone = Math.Min(alone, Stopwatch.GetElapsedTime(t0).TotalSeconds);
                var others = Enumerable.Range(1, threads - 1).Select(t => new Thread(() => Together(t)) { IsBackground = true }).ToArray();
                foreach (var th in others) th.Start();
                Together(0);
                foreach (var th in others) th.Join();
            }
            return Math.Max(1, together.Average() / alone);
        }
        finally
        {
            foreach (var s in sessions) s?.Dispose();
        }
    }

    /// <summary>Work, packed bytes and best seconds of one node of the case.</summary>
    private static TimingFit.Sample Measure(ProbeModels.Probe probe, int threads)
    {
        var options = new LoomSessionOptions
        {
            IntraOpThreads = threads, ExecutionMode = ExecutionMode.Sequential, OptimizationLevel = 0, MachineProfile = MachineProfile.Fixed(threads),
        };
        using var session = LoomSession.Create(probe.Model, options);
        var x = session.Inputs[0];
        var inputs = new Dictionary<string, LoomValue> { [x.Name] = ProbeModels.Input(x) };
        session.Run(inputs).Dispose();
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
}
