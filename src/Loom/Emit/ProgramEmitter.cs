using System.Globalization;
using System.Text;
using Loom.Runtime.Parallel;

namespace Loom.Emit;

/// <summary>What <c>loom emit</c> writes: the class name, the thread count and the symbol sizes the schedule is made for.</summary>
public sealed record EmitSettings(string ClassName, int Threads, IReadOnlyDictionary<string, long> Dims)
{
    /// <summary>Namespace of the emitted class.</summary>
    public string Namespace { get; init; } = "LoomEmitted";

    /// <summary>Every node on one thread, the whole graph one parallel stage (as <see cref="LoomSessionOptions.InterOpOnly"/>).</summary>
    public bool InterOpOnly { get; init; }

    /// <summary>The machine the schedule is made for (null: this one, probed); tests fix it so schedules do not depend on the machine.</summary>
    public Scheduling.MachineProfile? MachineProfile { get; init; }
}

/// <summary>
/// Writes the schedule a session makes for a model as one readable C# file: a class whose <c>Run</c> goes
/// through the stages in order — a wide step is one <see cref="EmittedRuntime.WideStep"/> call, a parallel
/// stage one method per worker that runs its steps in order, spins on a per-step completion stamp for each
/// producer on another worker, and stamps each step another worker waits for. The file compiles against
/// Loom.dll alone and computes what <see cref="LoomSession.Run(IReadOnlyDictionary{string, LoomValue}, CancellationToken)"/>
/// computes, bit for bit: the same kernels, one thread each inside a parallel stage, as Loom's own executor.
/// The schedule's placement is fixed at emit time (for the given sizes), but its waits follow the graph's
/// edges, so the program is correct at any input size. A batch split (hyperclustering) is not emitted: the
/// program always runs the clustered graph.
/// </summary>
public static class ProgramEmitter
{
    /// <summary>Loads <paramref name="modelPath"/>, schedules it and returns the program's source text.</summary>
    public static string Emit(string modelPath, EmitSettings settings)
    {
        var options = Options(settings);
        using var session = LoomSession.Load(modelPath, options);
        var plan = settings.Threads > 1 ? session.PlanFor(settings.Dims) : null;
        return Write(session, plan, Path.GetFullPath(modelPath), settings, options);
    }

    /// <summary>Emits the program to <paramref name="outPath"/>, written to a temporary name and renamed so it appears whole or not at all.</summary>
    public static void EmitToFile(string modelPath, EmitSettings settings, string outPath)
    {
        var text = Emit(modelPath, settings);
        var full = Path.GetFullPath(outPath);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            File.WriteAllText(temp, text, new UTF8Encoding(false));
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new LoomException($"cannot write program '{outPath}': {e.Message}", e);
        }
    }

    /// <summary>The session options the program is emitted and run with (what the runtime's fingerprint check relies on).</summary>
    internal static LoomSessionOptions Options(EmitSettings settings) => new()
    {
        IntraOpThreads = settings.Threads < 1 ? throw new InputException($"threads must be at least 1, not {settings.Threads}") : settings.Threads,
        GeneralizeBatch = settings.Dims.ContainsKey("batch"),
        InterOpOnly = settings.InterOpOnly,
        NodeCloning = false, // the runtime compiles the model without a schedule, so the emitted steps must be the uncloned ones
        MachineProfile = settings.MachineProfile,
    };

    private static string Write(LoomSession session, ParallelPlan? plan, string modelPath, EmitSettings settings, LoomSessionOptions options)
    {
        if (!IsIdentifier(settings.ClassName)) throw new InputException($"'{settings.ClassName}' is not a C# class name");
        var graph = session.Main;
        var steps = graph.Steps.Where(s => !s.IsConstant).Select(s => s.Index).ToArray();
        // Without a parallel stage (one thread, or a graph the scheduler keeps wide), one wide stage of every step.
        var stages = plan is { IsParallel: true } ? plan.Stages : [new ParallelPlan.Stage(false, [steps], [steps.Select(_ => Array.Empty<int>()).ToArray()], steps)];
        var workerOf = new Dictionary<int, int>();
        foreach (var stage in stages.Where(s => s.IsParallel))
            for (int w = 0; w < stage.Steps.Length; w++) foreach (var s in stage.Steps[w]) workerOf[s] = w;
        var awaited = stages.SelectMany(s => s.Waits.SelectMany(w => w.SelectMany(x => x))).ToHashSet();

        var o = new StringBuilder();
        Header(o, session, plan, modelPath, settings);
        o.AppendLine("#nullable enable");
        o.AppendLine("using System;");
        o.AppendLine("using System.Collections.Generic;");
        o.AppendLine("using System.Threading;");
        o.AppendLine("using Loom;");
        o.AppendLine("using Loom.Emit;");
        o.AppendLine();
        o.AppendLine($"namespace {settings.Namespace};");
        o.AppendLine();
        o.AppendLine($"/// <summary>The scheduled program of {Comment(Path.GetFileName(modelPath))} on {settings.Threads} thread(s). One run at a time.</summary>");
        o.AppendLine($"public sealed class {settings.ClassName} : IDisposable");
        o.AppendLine("{");
        o.AppendLine("    /// <summary>The model this program was emitted from: its weights stay there.</summary>");
        o.AppendLine($"    public const string DefaultModelPath = {Verbatim(modelPath)};");
        o.AppendLine();
        o.AppendLine("    private readonly EmittedRuntime _rt;");
        o.AppendLine($"    private readonly int[] _done = new int[{graph.Steps.Length}]; // per step: the run in which it finished (signals between workers)");
        o.AppendLine("    private int _run; // this run's stamp");
        var parallel = stages.Select((s, i) => (s, i)).Where(x => x.s.IsParallel).Select(x => x.i).ToArray();
        foreach (var s in parallel) o.AppendLine($"    private readonly Action[] _stage{s}Workers;");
        o.AppendLine();
        o.AppendLine($"    public {settings.ClassName}(string modelPath = DefaultModelPath)");
        o.AppendLine("    {");
        o.AppendLine($"        var options = new LoomSessionOptions {{ IntraOpThreads = {options.IntraOpThreads}, GeneralizeBatch = {(options.GeneralizeBatch ? "true" : "false")} }};");
        o.AppendLine($"        _rt = EmittedRuntime.Load(modelPath, options, \"{EmittedRuntime.Fingerprint(graph)}\");");
        foreach (var s in parallel)
            o.AppendLine($"        _stage{s}Workers = [{string.Join(", ", Enumerable.Range(0, stages[s].Steps.Length).Select(w => $"Stage{s}Worker{w}"))}];");
        o.AppendLine("    }");
        o.AppendLine();
        o.AppendLine("    /// <summary>The compiled model: input and output names and types.</summary>");
        o.AppendLine("    public LoomSession Session => _rt.Session;");
        o.AppendLine();
        o.AppendLine("    public RunResult Run(IReadOnlyDictionary<string, LoomValue> inputs) => _rt.Run(inputs, Program);");
        o.AppendLine();
        o.AppendLine("    private void Program()");
        o.AppendLine("    {");
        o.AppendLine("        _run++;");
        for (int s = 0; s < stages.Length; s++)
        {
            var stage = stages[s];
            if (!stage.IsParallel)
            {
                o.AppendLine($"        // stage {s}: {stage.Steps[0].Length} step(s) one after another, each with every thread");
                foreach (var step in stage.Steps[0]) o.AppendLine($"        _rt.WideStep({step});{Describe(graph, step)}");
                continue;
            }
            o.AppendLine($"        // stage {s}: {stage.Steps.Length} workers side by side ({string.Join(" + ", stage.Steps.Select(w => w.Length))} steps); alone in graph order if the threads are taken");
            o.AppendLine($"        if (!_rt.Concurrently(_stage{s}Workers)) _rt.InOrder(Stage{s}InOrder);");
        }
        o.AppendLine("    }");
        foreach (var s in parallel) Stage(o, graph, stages[s], s, workerOf, awaited);
        Helpers(o);
        o.AppendLine("}");
        return o.ToString();
    }

    private static void Stage(StringBuilder o, Runtime.CompiledGraph graph, ParallelPlan.Stage stage, int s,
        Dictionary<int, int> workerOf, HashSet<int> awaited)
    {
        o.AppendLine();
        o.AppendLine($"    private static readonly int[] Stage{s}InOrder = [{string.Join(", ", stage.InOrder)}];");
        for (int w = 0; w < stage.Steps.Length; w++)
        {
            o.AppendLine();
            o.AppendLine($"    private void Stage{s}Worker{w}()");
            o.AppendLine("    {");
            for (int i = 0; i < stage.Steps[w].Length; i++)
            {
                int step = stage.Steps[w][i];
                foreach (var p in stage.Waits[w][i])
                    o.AppendLine($"        WaitFor({p}); // {Comment(RunTrace.LabelOf(graph.Steps[p].Node))} on worker {workerOf[p]}");
                o.AppendLine($"        _rt.Step({step}, worker: {w});{Describe(graph, step)}");
                if (awaited.Contains(step)) o.AppendLine($"        Signal({step});");
            }
            o.AppendLine("    }");
        }
    }

    private static void Helpers(StringBuilder o)
    {
        o.AppendLine();
        o.AppendLine("    /// <summary>Step <paramref name=\"step\"/> has finished in this run; its outputs are written (the volatile write publishes them).</summary>");
        o.AppendLine("    private void Signal(int step) => Volatile.Write(ref _done[step], _run);");
        o.AppendLine();
        o.AppendLine("    /// <summary>Waits for step <paramref name=\"step\"/> of another worker: spins, then yields (it may share our core).</summary>");
        o.AppendLine("    private void WaitFor(int step)");
        o.AppendLine("    {");
        o.AppendLine("        var spin = new SpinWait();");
        o.AppendLine("        while (Volatile.Read(ref _done[step]) != _run)");
        o.AppendLine("        {");
        o.AppendLine("            if (_rt.Failed) throw new OperationCanceledException(\"another worker failed\");");
        o.AppendLine("            spin.SpinOnce(sleep1Threshold: -1);");
        o.AppendLine("        }");
        o.AppendLine("    }");
        o.AppendLine();
        o.AppendLine("    public void Dispose() => _rt.Dispose();");
    }

    private static void Header(StringBuilder o, LoomSession session, ParallelPlan? plan, string modelPath, EmitSettings settings)
    {
        var inv = CultureInfo.InvariantCulture;
        o.AppendLine($"// <auto-generated/> by `loom emit` from {Comment(Path.GetFileName(modelPath))}: the schedule Loom makes for it, as plain C#.");
        var dims = settings.Dims.Count == 0 ? "the model's own sizes" : string.Join(", ", settings.Dims.Select(d => $"{d.Key}={d.Value}"));
        o.AppendLine($"// Scheduled for {settings.Threads} thread(s) at {Comment(dims)}; correct at any size (waits follow the graph's edges).");
        if (plan is { } p)
        {
            var sc = p.Schedule;
            o.AppendLine(string.Create(inv, $"// {sc.Stages.Count} stage(s), {sc.Clusters.Length} linear cluster(s); critical path {sc.CriticalPathLength * 1e3:F2} ms of {sc.SequentialTime * 1e3:F2} ms work;"));
            o.AppendLine(string.Create(inv, $"// bound on speedup min(P, work / critical path) = {sc.SpeedupBound:F2}, predicted {sc.PredictedSpeedup:F2}."));
            if (p.Hyper is { } h)
                o.AppendLine($"// A session would split this batch into sub-batches [{string.Join(", ", h.SubBatches)}] run side by side{(h.HasTail ? $" up to {Comment(h.TailNode ?? "")}" : "")}; this program runs it whole.");
        }
        o.AppendLine("// Run() checks the inputs and calls Program(). WideStep(k) runs step k with every thread; a parallel stage");
        o.AppendLine("// runs one method per worker at once; a worker runs its steps in order, WaitFor(k) spins until step k of another");
        o.AppendLine("// worker has Signal(k)ed. Step numbers index the compiled model's steps (checked by fingerprint at load).");
        o.AppendLine($"// Inputs: {Comment(string.Join(", ", session.Inputs.Select(i => $"{i.Name}: {i.Type}")))}");
        o.AppendLine($"// Outputs: {Comment(string.Join(", ", session.Outputs.Select(i => $"{i.Name}: {i.Type}")))}");
    }

    private static string Describe(Runtime.CompiledGraph graph, int step)
    {
        var n = graph.Steps[step].Node;
        var label = n.Name.Length > 0 ? $" {n.Name}" : "";
        return $" // {Comment(n.OpType + label)} -> {Comment(string.Join(", ", n.Outputs.Where(x => x.Length > 0)))}";
    }

    /// <summary>Text safe inside a line comment (no line breaks).</summary>
    private static string Comment(string text) => text.Replace('\r', ' ').Replace('\n', ' ');

    private static string Verbatim(string text) => "@\"" + text.Replace("\"", "\"\"") + "\"";

    /// <summary>A plain C# identifier (letters, digits, underscores; no Roslyn in Loom.dll to ask).</summary>
    private static bool IsIdentifier(string name) =>
        name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(c => char.IsLetterOrDigit(c) || c == '_');
}
