using Loom.Runtime.Threading;
using Loom.Streams.CodeGen;
using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// The fused runtime on several cores. The actors, in the order of their first step in a fused unit, are cut
/// into one contiguous piece per core (every edge goes to the same or a later piece; a feedback loop and the
/// printers stay within a piece), balancing measured work. Each core runs its piece's steps of a unit as one
/// compiled method (a <see cref="FusedRunner"/> restricted to its actors), unit after unit, and core k runs
/// behind core k−1: unit u of every piece works in arena copy u mod R (R = cores + 6), so a core fills one copy while the
/// next core still reads an earlier one, and only published unit counters synchronise the cores (no barrier).
/// A core starts unit u when every earlier piece has finished it, and when every later piece has finished unit
/// u + 2 − R (so the copy it writes, and the next copy whose front it fills with the items edges keep, are no
/// longer read). Each piece fires its actors in the sequential order, so output is the sequential output.
/// </summary>
internal sealed class FusedPipeline
{
    private const int Pad = 16; // longs per counter: one cache line each, no false sharing
    private readonly FusedRunner[] _pieces;
    private readonly long[] _done;
    private readonly int _copies;
    private volatile bool _stop;
    // LOOM_STREAM_PIPE_STATS=1: each piece's thread CPU seconds in all and in waiting for other pieces, on stderr.
    private static readonly bool Stats = Environment.GetEnvironmentVariable("LOOM_STREAM_PIPE_STATS") == "1";
    private readonly double[] _waited, _total;
    private Exception? _failure;

    private FusedPipeline(FusedRunner[] pieces, int copies, Partition partition)
    {
        _pieces = pieces;
        _copies = copies;
        _done = new long[pieces.Length * Pad];
        _waited = new double[pieces.Length];
        _total = new double[pieces.Length];
        Partition = partition;
    }

    /// <summary>What an item crossing cores costs, for deciding whether a cut pays (a 64-byte line per 16 items, ~100 ns).</summary>
    private const double CrossingSeconds = 4e-9;

    /// <summary>Measured work per unit below which the pipeline keeps every actor on the first core.</summary>
    private const double MinUnitSeconds = 4e-6;

    /// <summary>The cut, as a partition whose stage of an actor is its core.</summary>
    public Partition Partition { get; }

    public int SteadyStatesPerUnit { get; private init; }

    /// <summary>
    /// A pipeline over <paramref name="cores"/> cores by <paramref name="work"/> (seconds per actor), or null when
    /// there is nothing to fuse, a unit is too short to share between cores or the cut saves less work than its
    /// crossing items cost.
    /// </summary>
    public static FusedPipeline? Make(FlatGraph g, Schedule s, GlobalStore globals, Printer printer, double[] work, int cores)
    {
        int units = FusedRunner.UnitsFor(g, s);
        // Cores + 6 copies: a core may run up to 6 units ahead of the next one, which rides out the next core's
        // thread losing its time slice on a busy machine (with 2 units of slack AutoCor ran at 1% of one core
        // under a load average of 20: every hand-over waited for the scheduler).
        int copies = cores + 6;
        var plan = FusedPlan.Make(g, s, units, copies);
        if (plan is null) return null;
        // A unit too short to share: handing it over between cores would cost more than it saves (SjEndJoin's units
        // of one steady state, a few items, ran 30× slower on two cores). Null: the caller runs it on one core.
        if (work.Sum() * units < MinUnitSeconds) return null;
        var piece = Cut(g, plan, work, cores);
        // Items crossing cores cost a cache-line transfer on the reading core, a few ns each: a cut whose work saved
        // is less than that runs on one core (SimplePeek's three actors at a few ns an item ran at half speed on two).
        var pieceWork = new double[cores];
        foreach (var a in g.Actors) pieceWork[piece[a.Index]] += FusedCost(g, plan, work, a);
        // (Real buffers only: the outputs of a duplicate splitter are tables into one buffer, whose lines cross once.)
        long crossing = g.Edges.Select((e, i) => (e, i)).Where(x => !plan.IsVirtual(x.i) && piece[x.e.Src.Index] != piece[x.e.Dst.Index]).Sum(x => plan.Flow[x.i]);
        if ((pieceWork.Sum() - pieceWork.Max()) * units < crossing * CrossingSeconds) return null;
        var runners = Enumerable.Range(0, cores).Select(k => new FusedRunner(g, plan, globals, printer, a => piece[a.Index] == k)).ToArray();
        var partition = new Partition { Cores = cores, Core = piece, Stage = piece, Work = g.Actors.Select(a => FusedCost(g, plan, work, a)).ToArray() };
        return new FusedPipeline(runners, copies, partition) { SteadyStatesPerUnit = units };
    }

    /// <summary>
    /// Seconds per steady state the pipeline is expected to take (its heaviest piece's fused work, plus what its
    /// items crossing cores cost), or one core's fused work when <see cref="Make"/> would keep the program on one core.
    /// </summary>
    internal static double Estimate(FlatGraph g, FusedPlan plan, double[] work, int cores)
    {
        double one = g.Actors.Sum(a => FusedCost(g, plan, work, a));
        if (work.Sum() * plan.Units < MinUnitSeconds) return one;
        var piece = Cut(g, plan, work, cores);
        var pieceWork = new double[cores];
        foreach (var a in g.Actors) pieceWork[piece[a.Index]] += FusedCost(g, plan, work, a);
        long crossing = g.Edges.Select((e, i) => (e, i)).Where(x => !plan.IsVirtual(x.i) && piece[x.e.Src.Index] != piece[x.e.Dst.Index]).Sum(x => plan.Flow[x.i]);
        double crossingPerSteady = crossing * CrossingSeconds / plan.Units;
        if (pieceWork.Sum() - pieceWork.Max() < crossingPerSteady) return one;
        return pieceWork.Max() + crossingPerSteady;
    }

    /// <summary>
    /// Each actor's piece: the cut of the actors (in the order of their first step) into contiguous pieces that
    /// minimises the heaviest piece's work, among cuts that no edge crosses backwards and that keep all
    /// printers in one piece. A mover whose outputs are all tables costs nothing in a fused unit.
    /// </summary>
    internal static int[] Cut(FlatGraph g, FusedPlan plan, double[] work, int cores)
    {
        var order = plan.Steps.Select(f => f.Actor).Distinct().ToList();
        foreach (var a in g.Actors)
            if (!order.Contains(a)) order.Add(a);
        int n = order.Count;
        var pos = new int[g.Actors.Count];
        for (int i = 0; i < n; i++) pos[order[i].Index] = i;
        var prefix = new double[n + 1];
        for (int i = 0; i < n; i++) prefix[i + 1] = prefix[i] + FusedCost(g, plan, work, order[i]);
        // allowed[i]: a cut just before order[i].
        var allowed = Enumerable.Repeat(true, n + 1).ToArray();
        foreach (var e in g.Edges)
            for (int i = pos[e.Dst.Index] + 1; i <= pos[e.Src.Index]; i++) allowed[i] = false;
        var printers = g.Actors.Where(a => a.Filter is { Symbol.PrintsInWork: true }).Select(a => pos[a.Index]).ToList();
        if (printers.Count > 1)
            for (int i = printers.Min() + 1; i <= printers.Max(); i++) allowed[i] = false;
        // best[p, i]: the heaviest piece when the first i actors form p pieces (empty pieces allowed).
        var best = new double[cores + 1, n + 1];
        var from = new int[cores + 1, n + 1];
        for (int i = 1; i <= n; i++) best[0, i] = double.PositiveInfinity;
        for (int p = 1; p <= cores; p++)
            for (int i = 0; i <= n; i++)
            {
                best[p, i] = double.PositiveInfinity;
                if (!allowed[i] && i != n) continue;
                for (int j = 0; j <= i; j++)
                {
                    if (!allowed[j] && j != 0) continue;
                    double c = Math.Max(best[p - 1, j], prefix[i] - prefix[j]);
                    if (c < best[p, i]) { best[p, i] = c; from[p, i] = j; }
                }
            }
        var piece = new int[g.Actors.Count];
        for (int p = cores, i = n; p >= 1; p--)
        {
            int j = from[p, i];
            for (int k = j; k < i; k++) piece[order[k].Index] = p - 1;
            i = j;
        }
        return piece;
    }

    /// <summary>An actor's measured work, except that a mover whose outputs are all tables costs nothing in a fused unit.</summary>
    internal static double FusedCost(FlatGraph g, FusedPlan plan, double[] work, Actor a) =>
        FusedPlan.IsMover(a) && a.Out.All(e => e is null || plan.IsVirtual(g.Edges.IndexOf(e))) ? 0 : work[a.Index];

    /// <summary>The items kept on each edge into the fused buffers (after the initialization schedule on the rings).</summary>
    public void LoadFromRings() => _pieces[0].LoadFromRings();

    /// <summary>The items kept after <paramref name="units"/> units back to the rings.</summary>
    public void StoreToRings(long units) => _pieces[0].StoreToRings(units);

    /// <summary>Runs <paramref name="units"/> units on the pool's threads, one piece per thread (in turn on the caller when the pool cannot give every piece a thread).</summary>
    /// <summary>When set, each piece's units are recorded as spans, one track per piece.</summary>
    internal RunTrace? Trace { get; set; }

    public void Run(WorkerPool pool, long units)
    {
        Array.Clear(_done);
        Array.Clear(_waited);
        _stop = false;
        _failure = null;
        var witness = Stats ? new RunWitness() : null;
        if (!pool.TryRunConcurrently(_pieces.Length, new Part(this, units)))
        {
            for (long u = 0; u < units; u++)
                foreach (var p in _pieces) p.RunUnit(u);
            return;
        }
        if (witness is not null) Console.Error.WriteLine(witness.Report($"{units} units", _total.Sum()));
        if (Stats)
            for (int k = 0; k < _pieces.Length; k++)
                Console.Error.WriteLine($"piece {k}: {_done[k * Pad]} units, cpu {_total[k]:F3} s, of which {_waited[k]:F3} s waiting");
        if (_failure is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
    }

    private readonly struct Part(FusedPipeline p, long units) : IParallelJob
    {
        public void Execute(int k) => p.RunPiece(k, units);
    }

    private void RunPiece(int k, long units)
    {
        var runner = _pieces[k];
        int n = _pieces.Length;
        double start = Stats ? Loom.Runtime.CpuClock.Thread() ?? 0 : 0;
        try
        {
            for (long u = 0; u < units; u++)
            {
                if (!Ready(k, n, u))
                {
                    // The clock is read only around waits, so measuring costs nothing while the pipeline flows.
                    double t0 = Stats ? Loom.Runtime.CpuClock.Thread() ?? 0 : 0;
                    var spin = new SpinWait();
                    while (!Ready(k, n, u))
                    {
                        if (_stop) return;
                        spin.SpinOnce(sleep1Threshold: -1);
                    }
                    if (Stats) _waited[k] += (Loom.Runtime.CpuClock.Thread() ?? 0) - t0;
                }
                if (_stop) return;
                if (Trace is { } trace) UnitSpan.Run(trace, k, "unit", u, runner.RunUnit);
                else runner.RunUnit(u);
                Volatile.Write(ref _done[k * Pad], u + 1);
            }
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
            _stop = true;
        }
        finally
        {
            if (Stats) _total[k] = (Loom.Runtime.CpuClock.Thread() ?? 0) - start;
        }
    }

    private bool Ready(int k, int n, long u)
    {
        for (int j = 0; j < k; j++)
            if (Volatile.Read(ref _done[j * Pad]) < u + 1) return false;
        for (int j = k + 1; j < n; j++)
            if (Volatile.Read(ref _done[j * Pad]) < u + 2 - _copies) return false;
        return true;
    }
}
