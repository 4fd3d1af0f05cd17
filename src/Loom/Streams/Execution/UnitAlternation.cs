using Loom.Runtime.Threading;
using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// Data parallelism over whole fused units: with n cores, core k runs units k, k + n, k + 2n, … of the complete fused
/// program (or, with <see cref="StreamProgram.ClaimUnits"/>, the default, the next unit from a shared counter), each core on its own
/// twin of the program (its own buffers and filter state, compiled from the same source). What makes a unit independent
/// of the one before is <see cref="AlternationChoice"/>'s split: the replicated actors (whatever carries state or items
/// into the next unit and cannot be handed over) run for every unit on every core, so each core's copy of their state
/// and kept items is the sequential one; the stateless rest runs only for the core's own units; the stateful sources
/// (first) and sinks (printers, with printing off a checksum; last) run for the owning core's unit after the previous
/// unit's, on whichever core, have finished: a counter per group passes the turn in unit order, and their fields and
/// the printer's line count and checksum go with it. So every sink sees its items in the sequential order and printed
/// lines come out in order. No item crosses cores. A core runs ahead of its sinks' turn by up to <see cref="Copies"/> −
/// 1 units, each in its own copy of the arena, and runs its waiting sinks whenever their turn comes (also while it
/// waits for a source's).
/// </summary>
internal sealed class UnitAlternation
{
    private sealed class Core
    {
        public required StreamProgram Program { get; init; }
        public required FusedRunner Own { get; init; }
        public required FusedRunner Replicated { get; init; }
        /// <summary>Per group in unit order (sources, sinks): this core's code of the group's actors, or null when the group is empty.</summary>
        public required FusedRunner?[] Group { get; init; }
        /// <summary>This core's recurrence sources started by random access (<see cref="AlternationChoice.Indexed"/>).</summary>
        public required Passes.RecurrenceSource[] Indexed { get; init; }
        /// <summary>Per indexed source: the arena offset and count of the items its output keeps between units (count 0: none).</summary>
        public required (int Base, int Count)[] IndexedKept { get; init; }
        public required FusedPlan Plan { get; init; }
    }

    /// <summary>
    /// Actors run in unit order across the cores (0: the stateful sources, first in a unit; 1: the sinks, last):
    /// the unit whose turn it is, and the core holding the group's current state. Padded: each is written by one
    /// core and spun on by another.
    /// </summary>
    private sealed class Turn
    {
        public required int[] Actors { get; init; }
        public required bool Prints { get; init; }
        private readonly long[] _slots = new long[32];
        public ref long Unit => ref _slots[8];
        public ref long Holder => ref _slots[24];
    }

    /// <summary>
    /// Arena copies per core: unit u works in copy u mod Copies, so a core can run up to Copies − 1 units ahead of
    /// its sinks' turn (a busy machine's other thread losing its time slice stalls this one less).
    /// </summary>
    private const int Copies = 4;

    private readonly Core[] _cores;
    private readonly Turn[] _turns;
    // Per indexed source: its firings per unit, and its state at the start of the run (firing 0 of unit 0).
    private readonly long[] _indexedFirings;
    private int[] _indexedStart = [];
    private volatile bool _stop;
    private readonly Claims _claims = new();
    /// <summary>
    /// Whether cores claim units from a shared counter rather than taking turns (StreamProgram.ClaimUnits). With fixed
    /// turns a core that runs slower (its twin's code or buffers placed worse, its vCPU slowed by the host, its thread
    /// preempted) makes the other wait for its sinks: the two cores waited 0.4–18% of their CPU time on a quiet machine
    /// (2026-11-27 15:06); claiming lets the faster core take more units. On by default since s2c2's A/B (docs/stream.md,
    /// 2026-11-27 18:31–18:35: the two-core rate of AutoCor, CompCount and MatrixMult higher in all six alternating pairs).
    /// </summary>
    private readonly bool _claimUnits;

    /// <summary>The next unit to claim, on a cache line of its own (every core increments it once per unit).</summary>
    private sealed class Claims
    {
#pragma warning disable CS0169 // padding
        private long _p0, _p1, _p2, _p3, _p4, _p5, _p6;
        public long Next;
        private long _q0, _q1, _q2, _q3, _q4, _q5, _q6;
#pragma warning restore CS0169
    }
    private Exception? _failure;
    // LOOM_STREAM_PIPE_STATS=1: each core's thread CPU seconds in all and in waiting for its turn, on stderr.
    private static readonly bool Stats = Environment.GetEnvironmentVariable("LOOM_STREAM_PIPE_STATS") == "1";
    private double[] _waited = [], _total = [];

    public int SteadyStatesPerUnit { get; }

    /// <summary>When set, each core's units (sources, own steps, sinks, replicated steps) are recorded as spans, one track per core.</summary>
    internal RunTrace? Trace { get; set; }
    public Partition Partition { get; }

    private UnitAlternation(Core[] cores, Turn[] turns, int units, Partition partition, long[] indexedFirings, bool claimUnits)
    {
        _claimUnits = claimUnits;
        _indexedFirings = indexedFirings;
        _cores = cores;
        _turns = turns;
        SteadyStatesPerUnit = units;
        Partition = partition;
    }

    /// <summary>Compiles a twin of <paramref name="main"/> for every core but the first, and each core's runners.</summary>
    public static UnitAlternation Make(StreamProgram main, AlternationChoice choice, double[] work, int cores)
    {
        var g = main.Flat;
        var programs = new List<StreamProgram> { main };
        for (int k = 1; k < cores; k++)
        {
            var printer = main.Printer.Twin();
            var twin = StreamProgram.Compile(main.Files, printer, main.TopLevel).WithFission(main.Fissions);
            printer.Attach(main.Printer);
            if (twin.Flat.Actors.Count != g.Actors.Count || twin.Flat.Actors.Zip(g.Actors).Any(x => x.First.Name != x.Second.Name))
                throw new StreamException("internal: a twin of the program for unit alternation has a different graph");
            programs.Add(twin);
        }
        var core = programs.Select(p =>
        {
            var plan = FusedPlan.Make(p.Flat, p.Schedule, choice.Units, Copies)
                ?? throw new StreamException("internal: no fused plan for unit alternation");
            return new Core
            {
                Program = p,
                Replicated = new FusedRunner(p.Flat, plan, p.Globals, p.Printer, a => choice.Replicated[a.Index]),
                Group = [.. new[] { choice.Sources, choice.InOrder }.Select(set => set.Any(x => x) ? new FusedRunner(p.Flat, plan, p.Globals, p.Printer, a => set[a.Index]) : null)],
                Own = new FusedRunner(p.Flat, plan, p.Globals, p.Printer, a => !choice.InOrder[a.Index] && !choice.Sources[a.Index]),
                Indexed = [.. p.Flat.Actors.Where(a => choice.Indexed.Length > 0 && choice.Indexed[a.Index]).Select(a => a.Filter!.Recurrence!)],
                IndexedKept = [.. p.Flat.Actors.Where(a => choice.Indexed.Length > 0 && choice.Indexed[a.Index]).Select(a => p.Flat.Edges.IndexOf(a.Out[0]!))
                    .Select(i => (plan.Base[i], (int)plan.Carried[i]))],
                Plan = plan,
            };
        }).ToArray();
        var role = g.Actors.Select(a => choice.InOrder[a.Index] ? "sink, in unit order" : choice.Sources[a.Index] ? "source, in unit order"
            : choice.Replicated[a.Index] ? "replicated" : choice.Indexed.Length > 0 && choice.Indexed[a.Index] ? "own units (recurrence, random access)" : "own units").ToArray();
        long[] indexedFirings = [.. g.Actors.Where(a => choice.Indexed.Length > 0 && choice.Indexed[a.Index]).Select(a => (long)main.Schedule.Repetitions[a.Index] * choice.Units)];
        int n = g.Actors.Count;
        var partition = new Partition
        {
            Cores = cores, Core = new int[n], Stage = new int[n], Role = role, Balance = choice.Balance, Mode = choice.Reason,
            Work = g.Actors.Select(a => FusedPipeline.FusedCost(g, FusedPlan.Make(g, main.Schedule, 1)!, work, a)).ToArray(),
        };
        var turns = new[] { choice.Sources, choice.InOrder }.Select((set, i) => new Turn
        {
            Actors = g.Actors.Where(a => set[a.Index]).Select(a => a.Index).ToArray(), Prints = i == 1,
        }).ToArray();
        return new UnitAlternation(core, turns, choice.Units, partition, indexedFirings, main.ClaimUnits);
    }

    /// <summary>
    /// Every core's buffers from its rings after the initialization schedule: the first core's ran on the caller,
    /// the twins' run here (the same firings on the same state, so the same items).
    /// </summary>
    public void LoadFromRings()
    {
        foreach (var c in _cores)
        {
            if (c.Program != _cores[0].Program)
                foreach (var f in c.Program.Schedule.Init) c.Program.Code[f.Actor.Index].Fire(f.Count);
            c.Own.LoadFromRings();
        }
    }

    /// <summary>The items kept after <paramref name="units"/> units back to the first core's rings (its replicated state is the sequential one).</summary>
    public void StoreToRings(long units) => _cores[0].Own.StoreToRings(units);

    /// <summary>Runs <paramref name="units"/> units, one core per thread (all on the caller's core when the pool cannot give every core a thread).</summary>
    public void Run(WorkerPool pool, long units)
    {
        foreach (var t in _turns) t.Unit = t.Holder = 0;
        _claims.Next = 0;
        _stop = false;
        _failure = null;
        _waited = new double[_cores.Length];
        _total = new double[_cores.Length];
        _indexedStart = [.. _cores[0].Indexed.Select(r => r.Field.Value)];
        var witness = Stats ? new RunWitness() : null;
        try
        {
            if (!pool.TryRunConcurrently(_cores.Length, new Part(this, units)))
            {
                var c = _cores[0];
                for (long u = 0; u < units; u++)
                {
                    c.Group[0]?.RunSteps(u);
                    c.Own.RunSteps(u);
                    c.Group[1]?.RunSteps(u);
                    c.Own.MoveKept(u);
                }
                return;
            }
        }
        finally
        {
            // The in-order actors' state and the printer's go back to the first core, which finishes the run on the rings.
            foreach (var t in _turns)
                if (t.Holder != 0) Hand(t, (int)t.Holder, 0);
            StartIndexed(_cores[0], units);
        }
        if (witness is not null) Console.Error.WriteLine(witness.Report($"{units} units of {SteadyStatesPerUnit} steady state(s)", _total.Sum()));
        if (Stats)
            for (int k = 0; k < _cores.Length; k++)
                Console.Error.WriteLine($"core {k}: cpu {_total[k]:F3} s, of which {_waited[k]:F3} s waiting for its turn");
        if (_failure is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
    }

    private readonly struct Part(UnitAlternation a, long units) : IParallelJob
    {
        public void Execute(int k) => a.RunCore(k, units);
    }

    private void RunCore(int k, long units)
    {
        var c = _cores[k];
        double start = Stats ? Loom.Runtime.CpuClock.Thread() ?? 0 : 0;
        // This core's units whose steps have run and whose sinks wait for their turn, oldest first.
        var pending = new Queue<long>();
        // Units before next have had this core's replicated steps (or its own); mine counts its fixed turns.
        long next = 0, mine = 0;
        try
        {
            while (true)
            {
                if (_stop) return;
                long u = _claimUnits ? Interlocked.Increment(ref _claims.Next) - 1 : k + (long)_cores.Length * mine++;
                if (u >= units) break;
                // Every unit before this core's next is another core's: this core's copy of the replicated actors
                // still runs them, in order, before its own.
                for (; next < u; next++)
                {
                    if (!c.Replicated.HasSteps) { next = u; break; }
                    if (!FreeCopies(next, k, pending)) return;
                    if (Trace is { } tr) UnitSpan.Run(tr, k, "replicated", next, c.Replicated.RunUnit);
                    else c.Replicated.RunUnit(next);
                }
                if (!FreeCopies(u, k, pending)) return;
                next = u + 1;
                if (c.Group[0] is { } sources)
                {
                    if (!Wait(0, u, k, pending)) return;
                    Take(0, k);
                    if (Trace is { } tr) UnitSpan.Run(tr, k, "sources", u, sources.RunSteps);
                    else sources.RunSteps(u);
                    Volatile.Write(ref _turns[0].Unit, u + 1);
                }
                StartIndexed(c, u);
                if (Trace is { } trace) UnitSpan.Run(trace, k, "unit", u, c.Own.RunSteps);
                else c.Own.RunSteps(u);
                c.Own.MoveKept(u);
                if (c.Group[1] is not null) pending.Enqueue(u);
                RunSinksDue(k, pending);
            }
            // The replicated actors' state at the end of the run (the first core's finishes the run on the rings).
            for (; next < units && c.Replicated.HasSteps; next++)
            {
                if (!FreeCopies(next, k, pending)) return;
                c.Replicated.RunUnit(next);
            }
            while (pending.Count > 0)
                if (!Wait(1, pending.Peek(), k, pending)) return;
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

    /// <summary>
    /// Waits until unit <paramref name="u"/> may run on this core: it works in arena copy u mod Copies and fills the
    /// front of the next, so this core's units still holding those copies must have run their sinks. False: the run stopped.
    /// </summary>
    private bool FreeCopies(long u, int k, Queue<long> pending)
    {
        while (pending.Count > 0 && pending.Peek() <= u + 1 - Copies)
            if (!Wait(1, pending.Peek(), k, pending)) return false;
        return true;
    }

    /// <summary>
    /// Sets this core's recurrence sources to their state at the start of unit <paramref name="u"/> (random access
    /// from the run's start), and writes the items their outputs keep from unit u − 1 (its last firings' items) to
    /// the front of the unit's buffers, where unit u − 1, run on another core, did not move them.
    /// </summary>
    private void StartIndexed(Core c, long u)
    {
        for (int i = 0; i < c.Indexed.Length; i++)
        {
            var r = c.Indexed[i];
            var (offset, kept) = c.IndexedKept[i];
            long first = u * _indexedFirings[i];
            if (kept > 0 && u > 0)
            {
                r.Field.Value = r.Recurrence.At(_indexedStart[i], first - kept);
                var arena = c.Plan.Sets[(int)(u % c.Plan.Sets.Length)][r.ItemType];
                if (arena is int[] ints) Passes.RecurrenceSource.FillInt(r, ints, offset, kept);
                else Passes.RecurrenceSource.FillFloat(r, (float[])arena, offset, kept);
            }
            else r.Field.Value = r.Recurrence.At(_indexedStart[i], first);
        }
    }

    /// <summary>
    /// Waits until it is unit <paramref name="u"/>'s turn in group <paramref name="i"/>, running this core's
    /// pending sinks whenever theirs comes meanwhile (so two cores never wait for each other); false: the run stopped.
    /// </summary>
    private bool Wait(int i, long u, int k, Queue<long> pending)
    {
        var t = _turns[i];
        if (Volatile.Read(ref t.Unit) < u)
        {
            double t0 = Stats ? Loom.Runtime.CpuClock.Thread() ?? 0 : 0;
            var spin = new SpinWait();
            while (Volatile.Read(ref t.Unit) < u)
            {
                if (_stop) return false;
                if (!RunSinksDue(k, pending)) spin.SpinOnce(sleep1Threshold: -1);
            }
            if (Stats) _waited[k] += (Loom.Runtime.CpuClock.Thread() ?? 0) - t0;
        }
        if (i == 1) RunSinksDue(k, pending);
        return true;
    }

    /// <summary>Runs this core's pending sinks while it is their turn; whether any ran.</summary>
    private bool RunSinksDue(int k, Queue<long> pending)
    {
        bool ran = false;
        var t = _turns[1];
        while (pending.Count > 0 && Volatile.Read(ref t.Unit) == pending.Peek())
        {
            long u = pending.Dequeue();
            Take(1, k);
            if (Trace is { } trace) UnitSpan.Run(trace, k, "sinks", u, _cores[k].Group[1]!.RunSteps);
            else _cores[k].Group[1]!.RunSteps(u);
            Volatile.Write(ref t.Unit, u + 1);
            ran = true;
        }
        return ran;
    }

    /// <summary>Group <paramref name="i"/>'s state to core <paramref name="k"/>, which has the turn.</summary>
    private void Take(int i, int k)
    {
        var t = _turns[i];
        if (t.Holder == k) return;
        Hand(t, (int)t.Holder, k);
        t.Holder = k;
    }

    /// <summary>A group's fields (and, for the sinks, the printer's state) from core <paramref name="from"/>'s twin to core <paramref name="to"/>'s.</summary>
    private void Hand(Turn t, int from, int to)
    {
        var a = _cores[from].Program;
        var b = _cores[to].Program;
        foreach (int i in t.Actors)
        {
            var fa = a.Flat.Actors[i].Filter!.Fields;
            var fb = b.Flat.Actors[i].Filter!.Fields;
            for (int j = 0; j < fa.Length; j++) fb[j].Value = fa[j].Value;
        }
        if (t.Prints) b.Printer.TakeStateFrom(a.Printer);
    }
}
