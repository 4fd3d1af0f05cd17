using System.Globalization;
using Loom.Streams.CodeGen;
using Loom.Streams.Elaboration;
using Loom.Streams.Graph;
using Loom.Streams.Scheduling;
using Loom.Streams.Semantics;
using Loom.Streams.Syntax;

namespace Loom.Streams.Execution;

/// <summary>
/// A StreamIt program compiled for running: parsed and checked, its static block run, its graph elaborated,
/// flattened and scheduled, its channels sized from the schedule and every actor's firing code compiled.
/// </summary>
public sealed class StreamProgram
{
    public required BoundProgram Bound { get; init; }
    public required StreamNode Graph { get; init; }
    public required FlatGraph Flat { get; init; }
    public required Schedule Schedule { get; init; }
    public required Printer Printer { get; init; }
    public required GlobalStore Globals { get; init; }
    public ActorCode[] Code { get; private set; } = [];
    public required IReadOnlyList<SourceFile> Files { get; init; }
    public string? TopLevel { get; init; }
    /// <summary>Filters split by fission (instance name → copies).</summary>
    public IReadOnlyDictionary<string, int> Fissions { get; private init; } = new Dictionary<string, int>();

    /// <summary>
    /// Set when the program runs demand-driven (<see cref="DemandDriven"/>: dynamic rates or teleport messages):
    /// the schedule of its statically scheduled regions. Then <see cref="Schedule"/> is the whole program's static
    /// schedule when its rates are all static (messages only), else this one.
    /// </summary>
    public Schedule? Demand { get; private init; }

    /// <summary>The partition the last parallel run used (for --show partition).</summary>
    public Partition? LastPartition { get; private set; }

    public static StreamProgram Load(IReadOnlyList<string> paths, Printer printer, string? topLevel = null) =>
        Compile(paths.Select(SourceFile.Read).ToList(), printer, topLevel);

    public static StreamProgram Compile(IReadOnlyList<SourceFile> files, Printer printer, string? topLevel = null)
    {
        var syntax = Parser.Parse(files);
        var bound = Binder.Bind(syntax);
        var globals = new GlobalStore(bound.Globals);
        CodeGen.CodeGen.CompileStatic(bound, globals, printer)();
        var top = bound.FindTopLevel(topLevel);
        var graph = Elaborator.Elaborate(top, globals, printer);
        return Build(files, topLevel, bound, graph, printer, globals, new Dictionary<string, int>());
    }

    private static StreamProgram Build(IReadOnlyList<SourceFile> files, string? topLevel, BoundProgram bound, StreamNode graph,
        Printer printer, GlobalStore globals, IReadOnlyDictionary<string, int> fissions)
    {
        var flat = Flattener.Flatten(graph);
        foreach (var a in flat.Actors)
            if (a.Filter is { } f)
            {
                f.Moves = CodeGen.DataMovement.Moves(f, globals);
                f.Recurrence = Passes.RecurrenceSource.Recognise(f);
            }
        var (schedule, demand) = DemandDriven.Schedules(flat);
        var p = new StreamProgram
        {
            Files = files, TopLevel = topLevel, Bound = bound, Graph = graph, Flat = flat, Schedule = schedule, Printer = printer,
            Globals = globals, Fissions = fissions, Demand = demand,
        };
        p.Allocate(_ => 0);
        return p;
    }

    /// <summary>
    /// This program (not yet run) with the given stateless filters split into copies: re-flattened,
    /// rescheduled and recompiled over the same filter instances.
    /// </summary>
    public StreamProgram WithFission(IReadOnlyDictionary<string, int> ways)
    {
        if (ways.Count == 0) return this;
        var p = Build(Files, TopLevel, Bound, Passes.Fission.Apply(Graph, ways), Printer, Globals, ways);
        p.Mode = Mode;
        p.ClaimUnits = ClaimUnits;
        return p;
    }

    /// <summary>
    /// For a run on <paramref name="cores"/> cores: splits the stateless filters that are too heavy for one
    /// core's share of the measured work (judicious fission), and partitions the result by measured work.
    /// </summary>
    public (StreamProgram Program, Partition Plan) PrepareParallel(int cores)
    {
        var work = MeasureWork();
        var filters = Flat.Actors.Where(a => a.Filter is not null).Select(a => (a.Filter!, work[a.Index], a.FeedbackLoop is not null));
        // Fission may enlarge the steady state, which would regroup the lines of several printers.
        bool severalPrinters = Flat.Actors.Count(a => a.Filter is { Symbol.PrintsInWork: true }) > 1;
        // Unit alternation runs the whole graph on every core: fission would only enlarge its steady state.
        if (Fuse && Demand is null && AlternationChoice.Decide(Flat, Schedule, work, cores, Mode).Alternate)
            return (this, Partition.Make(Flat, cores, work));
        var ways = severalPrinters ? new Dictionary<string, int>() : Passes.Fission.Decide(filters, work.Sum(), cores);
        var p = WithFission(ways);
        return (p, p.Plan(cores));
    }

    /// <summary>
    /// Makes every edge's ring, big enough for the most items the schedule puts on it plus
    /// <paramref name="extra"/> items (room for a producer running ahead on another core), and compiles the
    /// actors against them. Only before anything has run.
    /// </summary>
    public void Allocate(Func<Edge, long> extra)
    {
        for (int i = 0; i < Flat.Edges.Count; i++)
        {
            var e = Flat.Edges[i];
            if (e.Dynamic)
            {
                var q = DynamicChannel.Create(ClrTypes.Of(e.Type), e.ToString());
                foreach (var v in e.Initial) q.PushBoxed(ToItem(v, q.ItemType));
                e.Channel = q;
                continue;
            }
            long cap = Schedule.MaxItems[i] + extra(e);
            if (cap > 1 << 28) throw new StreamException($"the buffer between {e.Src.Name} and {e.Dst.Name} would hold {cap} items");
            var ch = Channel.Create(ClrTypes.Of(e.Type), (int)cap);
            foreach (var v in e.Initial) ch.PushBoxed(ToItem(v, ch.ItemType));
            e.Channel = ch;
        }
        Code = Flat.Actors.Select(a => ActorCode.Compile(a, Globals, Printer)).ToArray();
    }

    /// <summary>Items crossing an edge in one steady state.</summary>
    public long SteadyFlow(Edge e) => Schedule.Repetitions[e.Src.Index] * e.Src.Push[e.SrcPort];

    private static object? ToItem(object? v, Type t)
    {
        if (v is null || v.GetType() == t) return v;
        if (t == typeof(SValue)) return Intrinsics.Complex(System.Convert.ToDouble(v, CultureInfo.InvariantCulture), 0);
        return System.Convert.ChangeType(v, t, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Measures each actor's share of a steady state: runs the init schedule and <paramref name="iterations"/>
    /// steady states with a stopwatch around every firing batch; returns seconds per actor. Printing goes to
    /// the printer as usual (use one with printing off).
    /// </summary>
    public double[] Profile(long iterations, double budgetSeconds = double.MaxValue)
    {
        var seconds = new double[Code.Length];
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        ProfiledIterations = 0;
        try
        {
            if (!_profiledInit) foreach (var f in Schedule.Init) Code[f.Actor.Index].Fire(f.Count);
            _profiledInit = true;
            for (long i = 0; i < iterations && System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds < budgetSeconds; i++, ProfiledIterations++)
                foreach (var f in Schedule.Steady)
                {
                    long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                    Code[f.Actor.Index].Fire(f.Count);
                    seconds[f.Actor.Index] += System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
                }
        }
        catch (StopRunException) { }
        return seconds;
    }

    /// <summary>
    /// When set, runs record their fused units as spans, one track per core (the fused one-core runtime, the
    /// pipeline and unit alternation; the ring and demand-driven runtimes record nothing).
    /// </summary>
    public RunTrace? Trace { get; set; }

    /// <summary>Runs on <paramref name="cores"/> cores (1: the sequential runtime). Returns the steady states completed.</summary>
    public long Run(int cores, long iterations)
    {
        Trace?.Begin();
        if (Demand is not null) return DemandDriven.Run(this, iterations, cores);
        if (cores <= 1) return RunSequential(iterations);
        var (p, plan) = PrepareParallel(cores);
        p.Trace = Trace;
        // A split graph's steady state may cover several of the original's (a filter firing once per steady
        // state split in two needs two): count in the original's, rounding up to whole split steady states.
        long m = SteadyStatesPer(p);
        long split = iterations == long.MaxValue ? long.MaxValue : (iterations + m - 1) / m;
        long done = p.RunParallel(cores, split, plan);
        return done == long.MaxValue ? done : done * m;
    }

    /// <summary>How many of this program's steady states one steady state of <paramref name="split"/> (this program after fission) makes.</summary>
    public long SteadyStatesPer(StreamProgram split)
    {
        foreach (var a in Flat.Actors)
        {
            var b = split.Flat.Actors.FirstOrDefault(x => x.Name == a.Name);
            if (b is not null) return split.Schedule.Repetitions[b.Index] / Schedule.Repetitions[a.Index];
        }
        return 1;
    }

    private bool _profiledInit;

    /// <summary>Steady states the last <see cref="Profile"/> completed.</summary>
    public long ProfiledIterations { get; private set; }

    /// <summary>Each actor's measured seconds per steady state, from a short run of a twin of this program with printing off.</summary>
    public double[] MeasureWork(double budgetSeconds = 0.1)
    {
        var twin = Compile(Files, new Printer(null), TopLevel).WithFission(Fissions);
        // Several short segments, keeping each actor's quickest: a thread preempted mid-firing (a busy
        // machine) inflates one segment's time, not all of them.
        const int segments = 5;
        var w = Enumerable.Repeat(double.MaxValue, Code.Length).ToArray();
        for (int s = 0; s < segments; s++)
        {
            var t = twin.Profile(1 << 14, budgetSeconds / segments);
            long n = Math.Max(1, twin.ProfiledIterations);
            for (int a = 0; a < w.Length; a++) w[a] = Math.Min(w[a], t[a] / n);
        }
        // An actor too quick to register still costs something: count its items moved.
        for (int a = 0; a < w.Length; a++)
        {
            var actor = Flat.Actors[a];
            w[a] += 1e-9 * Schedule.Repetitions[a] * (actor.Pop.Sum() + actor.Push.Sum() + 1);
        }
        return w;
    }

    public Partition Plan(int cores) => Partition.Make(Flat, cores, MeasureWork());

    private (Partition Plan, int K, int J)? _parallel;

    /// <summary>
    /// Sizes the rings for <paramref name="plan"/> and compiles the actors against them (done by
    /// <see cref="RunParallel"/> when not done before; separate so a benchmark can leave it out of its timing).
    /// </summary>
    public (Partition Plan, int K, int J) SetUpParallel(int cores, Partition plan)
    {
        if (plan.Cores != cores) throw new InputException($"the partition is for {plan.Cores} cores, not {cores}");
        LastPartition = plan;
        // Unit alternation when the work estimate favours it (every core runs the whole program for its own units).
        string mode = "";
        if (Fuse && Demand is null)
        {
            var choice = AlternationChoice.Decide(Flat, Schedule, plan.Work, cores, Mode);
            if (choice.Alternate)
            {
                _alternation = UnitAlternation.Make(this, choice, plan.Work, cores);
                LastPartition = _alternation.Partition;
                _parallel = (LastPartition, Schedule.Scale, 1);
                return _parallel.Value;
            }
            mode = choice.Reason;
        }
        // The fused runtime cut into one piece per core (the rings only carry the init schedule and the rest).
        if (Fuse && FusedPipeline.Make(Flat, Schedule, Globals, Printer, plan.Work, cores) is { } pipeline)
        {
            _pipeline = pipeline;
            LastPartition = pipeline.Partition;
            LastPartition.Mode = mode;
            _parallel = (pipeline.Partition, Schedule.Scale, 1);
            return _parallel.Value;
        }
        // Too little work per fused unit to share it between cores: one core runs the fused program.
        if (Fuse && PrepareSequential() is not null)
        {
            _oneCore = true;
            LastPartition = new Partition { Cores = cores, Core = new int[Flat.Actors.Count], Stage = new int[Flat.Actors.Count], Work = plan.Work,
                Mode = "one core: the fused unit is too short to share, or a cut saves less than its crossing items cost; " + mode };
            _parallel = (LastPartition, Schedule.Scale, 1);
            return _parallel.Value;
        }
        // Each round repeats the (scaled) steady schedule j times, so that a round holds about 5 ms of work and
        // the barrier between rounds is cheap. Repeating keeps every core's firing order the sequential one.
        double perIteration = Math.Max(plan.Work.Sum(), 1e-9);
        int k = Schedule.Scale, j = 1;
        long flowPerIteration = Flat.Edges.Sum(SteadyFlow);
        while (j < 1 << 16 && (long)j * k * perIteration < 5e-3 && (plan.Stages + 1L) * flowPerIteration * k * j * 2 < 1 << 24) j *= 2;
        Allocate(e => (plan.Stage[e.Dst.Index] - plan.Stage[e.Src.Index] + 1L) * SteadyFlow(e) * k * j);
        _parallel = (plan, k, j);
        return _parallel.Value;
    }

    /// <summary>
    /// Runs on <paramref name="cores"/> cores: partitions by measured work, resizes the rings for producers
    /// running ahead, runs init on this thread and then the software-pipelined rounds on a worker pool.
    /// Output is the sequential output (printers keep their order; every filter sees the same items).
    /// </summary>
    public long RunParallel(int cores, long iterations, Partition? plan = null)
    {
        var (_, k, j) = _parallel ?? SetUpParallel(cores, plan ?? Plan(cores));
        plan = _parallel!.Value.Plan;
        long done = 0;
        if (_pipeline is not null) _pipeline.Trace = Trace;
        if (_alternation is not null) _alternation.Trace = Trace;
        if (_pipeline is { } fused) return RunUnits(fused.SteadyStatesPerUnit, fused.LoadFromRings, fused.Run, fused.StoreToRings, cores, iterations);
        if (_alternation is { } alt) return RunUnits(alt.SteadyStatesPerUnit, alt.LoadFromRings, alt.Run, alt.StoreToRings, cores, iterations);
        if (_oneCore) return RunSequential(iterations);
        try
        {
            foreach (var f in Schedule.Init) Code[f.Actor.Index].Fire(f.Count);
            var runner = new ParallelRunner(this, plan, j);
            using (var pool = new Loom.Runtime.Threading.WorkerPool(cores))
            {
                long n = iterations / ((long)k * j);
                runner.Run(pool, n);
                done = n * k * j;
            }
            // The rest (fewer than one round) on this thread, after the pipeline has drained.
            var scaled = Schedule.ScaledSteady.Select(f => (Code[f.Actor.Index], f.Count)).ToArray();
            for (; iterations - done >= k; done += k)
                foreach (var (code, count) in scaled) code.Fire(count);
            done = FireSteadyOnRings(done, iterations);
        }
        catch (StopRunException) { }
        FlushQuietly();
        return done;
    }

    private FusedPipeline? _pipeline;
    private UnitAlternation? _alternation;
    private bool _oneCore;

    /// <summary>
    /// Unit alternation: cores claim units from a shared counter instead of core k taking units k, k + n, … (default on;
    /// LOOM_STREAM_CLAIM_UNITS=0 turns it off). The output is the same either way.
    /// </summary>
    public bool ClaimUnits { get; set; } = Environment.GetEnvironmentVariable("LOOM_STREAM_CLAIM_UNITS") != "0";

    /// <summary>How the fused runtime uses several cores (default from LOOM_STREAM_MODE: auto, pipeline or alternate).</summary>
    public ParallelMode Mode { get; set; } = AlternationChoice.ModeFromEnvironment();

    /// <summary>The init schedule on the rings, whole fused units on the cores (a pipeline or unit alternation), the rest on the rings on this thread.</summary>
    private long RunUnits(int m, Action load, Action<Loom.Runtime.Threading.WorkerPool, long> run, Action<long> store, int cores, long iterations)
    {
        long done = 0;
        try
        {
            foreach (var f in Schedule.Init) Code[f.Actor.Index].Fire(f.Count);
            if (iterations >= m)
            {
                long units = iterations == long.MaxValue ? long.MaxValue : iterations / m;
                load();
                using (var pool = new Loom.Runtime.Threading.WorkerPool(cores)) run(pool, units);
                store(units);
                done = units * m;
            }
            done = FireSteadyOnRings(done, iterations);
        }
        catch (StopRunException) { }
        FlushQuietly();
        return done;
    }

    /// <summary>Whether runs use the fused runtime (the default; <c>LOOM_STREAM_FUSE=0</c> turns it off, for comparing).</summary>
    public bool Fuse { get; set; } = Environment.GetEnvironmentVariable("LOOM_STREAM_FUSE") != "0";

    private FusedRunner? _fused;
    private bool _fusedTried;

    /// <summary>
    /// Compiles the fused form of the steady state for one core (done by <see cref="RunSequential"/> when not
    /// done before; separate so a benchmark can leave compiling out of its timing). Null when the program has
    /// nothing to fuse or fusion is turned off (<c>LOOM_STREAM_FUSE=0</c>).
    /// </summary>
    public FusedRunner? PrepareSequential()
    {
        if (_fusedTried) return _fused;
        _fusedTried = true;
        if (Fuse && Demand is null) _fused = FusedRunner.Make(Flat, Schedule, Globals, Printer);
        return _fused;
    }

    /// <summary>
    /// Runs the initialization schedule, then <paramref name="iterations"/> steady states (all of them, or until
    /// the printer stops the run). Returns the number of steady states completed.
    /// </summary>
    public long RunSequential(long iterations)
    {
        if (Demand is not null) return DemandDriven.Run(this, iterations);
        long done = 0;
        try
        {
            foreach (var f in Schedule.Init) Code[f.Actor.Index].Fire(f.Count);
            if (PrepareSequential() is { } fused && iterations >= fused.SteadyStatesPerUnit)
            {
                // The fused units, then back to the rings for the rest (fewer than one unit).
                int m = fused.SteadyStatesPerUnit;
                long units = iterations == long.MaxValue ? long.MaxValue : iterations / m;
                fused.LoadFromRings();
                if (Trace is { } trace)
                    for (long u = 0; u < units; u++) UnitSpan.Run(trace, 0, "unit", u, fused.RunUnit);
                else fused.Run(units);
                fused.StoreToRings();
                done = units * m;
            }
            var scaled = Schedule.ScaledSteady.Select(f => (Code[f.Actor.Index], f.Count)).ToArray();
            int k = Schedule.Scale;
            for (; iterations - done >= k; done += k)
                foreach (var (code, count) in scaled) code.Fire(count);
            done = FireSteadyOnRings(done, iterations);
        }
        catch (StopRunException) { }
        FlushQuietly();
        return done;
    }

    /// <summary>Steady states from <paramref name="done"/> up to <paramref name="iterations"/> on the rings, on this thread.</summary>
    private long FireSteadyOnRings(long done, long iterations)
    {
        var steps = Schedule.Steady.Select(f => (Code[f.Actor.Index], f.Count)).ToArray();
        for (; done < iterations; done++)
            foreach (var (code, count) in steps) code.Fire(count);
        return done;
    }

    /// <summary>Flushes the printer; output closed early (a pipe into head) is not an error.</summary>
    private void FlushQuietly()
    {
        try { Printer.Flush(); }
        catch (StopRunException) { }
    }
}
