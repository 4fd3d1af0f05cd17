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
        var flat = Flattener.Flatten(graph);
        var schedule = Schedule.Make(flat);
        var p = new StreamProgram { Bound = bound, Graph = graph, Flat = flat, Schedule = schedule, Printer = printer, Globals = globals };
        p.Allocate(copies: 1);
        return p;
    }

    /// <summary>
    /// Makes every edge's ring, big enough for <paramref name="copies"/> steady states' worth of items beyond
    /// what the schedule leaves on it (1 for sequential running), and compiles the actors against them.
    /// </summary>
    public void Allocate(int copies)
    {
        for (int i = 0; i < Flat.Edges.Count; i++)
        {
            var e = Flat.Edges[i];
            long cap = Schedule.MaxItems[i] + (copies - 1) * SteadyFlow(e);
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
    public double[] Profile(long iterations)
    {
        var seconds = new double[Code.Length];
        try
        {
            foreach (var f in Schedule.Init) Code[f.Actor.Index].Fire(f.Count);
            for (long i = 0; i < iterations; i++)
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

    /// <summary>Runs on <paramref name="cores"/> cores (1: the sequential runtime). Returns the steady states completed.</summary>
    public long Run(int cores, long iterations) => RunSequential(iterations);

    /// <summary>
    /// Runs the initialization schedule, then <paramref name="iterations"/> steady states (all of them, or until
    /// the printer stops the run). Returns the number of steady states completed.
    /// </summary>
    public long RunSequential(long iterations)
    {
        long done = 0;
        try
        {
            foreach (var f in Schedule.Init) Code[f.Actor.Index].Fire(f.Count);
            var steps = Schedule.Steady.Select(f => (Code[f.Actor.Index], f.Count)).ToArray();
            var scaled = Schedule.ScaledSteady.Select(f => (Code[f.Actor.Index], f.Count)).ToArray();
            int k = Schedule.Scale;
            for (; iterations - done >= k; done += k)
                foreach (var (code, count) in scaled) code.Fire(count);
            for (; done < iterations; done++)
                foreach (var (code, count) in steps) code.Fire(count);
        }
        catch (StopRunException) { }
        try { Printer.Flush(); }
        catch (StopRunException) { }
        return done;
    }
}
