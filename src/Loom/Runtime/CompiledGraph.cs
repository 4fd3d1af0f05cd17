using Loom.IR;
using Loom.Kernels;
using Loom.Runtime.Memory;
using Loom.Runtime.Threading;

namespace Loom.Runtime;

/// <summary>
/// A graph made ready to run: every value has a slot index, every node a kernel, initializers sit in
/// their slots, and each step knows which slots die after it. Values a subgraph uses from enclosing
/// graphs are captured by slot when the subgraph runs. Immutable after compilation, so many runs
/// (and many threads) share it.
/// </summary>
public sealed class CompiledGraph
{
    internal sealed record Step(int Index, Node Node, Kernel Kernel, int[] Inputs, int[] Outputs, int[] Release, bool IsConstant = false);

    private readonly LoomValue?[] _constants;
    private readonly (int Slot, int ParentSlot)[] _captures;
    private readonly HashSet<int> _captureSlots;
    private readonly TensorType?[] _expected;

    internal CompiledGraph(Graph graph, OpsetImports opsets, KernelRegistry registry, LoomSessionOptions options, CompiledGraph? parent)
    {
        Graph = graph;
        Opsets = opsets;
        Parent = parent;
        Options = options;
        var slotOf = new Dictionary<string, int>();
        int Slot(string name)
        {
            if (!slotOf.TryGetValue(name, out var s)) slotOf[name] = s = slotOf.Count;
            return s;
        }

        foreach (var i in graph.Inputs) Slot(i.Name);
        foreach (var name in graph.Initializers.Keys) Slot(name);
        foreach (var n in graph.Nodes) foreach (var o in n.Outputs) if (o.Length > 0) Slot(o);
        var captures = new List<(int, int)>();
        foreach (var free in TopologicalSort.FreeVariables(graph))
        {
            if (parent is null || !parent.SlotOf.TryGetValue(free, out var ps))
                throw new GraphException($"graph '{graph.Name}' uses '{free}', which is not defined in it or any enclosing graph");
            captures.Add((Slot(free), ps));
        }
        SlotOf = slotOf;
        SlotCount = slotOf.Count;
        _captures = captures.ToArray();
        _captureSlots = _captures.Select(c => c.Slot).ToHashSet();

        _constants = new LoomValue?[SlotCount];
        foreach (var (name, t) in graph.Initializers) _constants[slotOf[name]] = t;
        _expected = new TensorType?[SlotCount];
        foreach (var (name, s) in slotOf) _expected[s] = TypeOf(name) as TensorType;

        InputSlots = graph.Inputs.Select(i => slotOf[i.Name]).ToArray();
        OutputSlots = graph.Outputs.Select(o => slotOf[o.Name]).ToArray();

        var steps = new List<Step>();
        var constantSlot = new bool[SlotCount];
        foreach (var name in graph.Initializers.Keys) constantSlot[slotOf[name]] = true;
        foreach (var slot in InputSlots) constantSlot[slot] = false; // an input with an initializer default can be fed
        var lastUse = new int[SlotCount];
        Array.Fill(lastUse, -1);
        for (int k = 0; k < graph.Nodes.Length; k++)
        {
            var n = graph.Nodes[k];
            var info = new KernelInfo(n, opsets[n.Domain] ?? throw new UnsupportedException($"node {n.DisplayName}: the model imports no opset for domain '{n.Domain}'"),
                n.Inputs.Select(i => i.Length > 0 ? TypeOf(i) : null).ToList(),
                n.Outputs.Select(o => o.Length > 0 ? TypeOf(o) : null).ToList(),
                g => new CompiledGraph(g, opsets, registry, options, this),
                ConstantOf, options, name => slotOf.TryGetValue(name, out var s) && constantSlot[s] && !graph.Initializers.ContainsKey(name));
            var kernel = registry.Resolve(info)(info);
            var inputSlots = n.Inputs.Select(i => i.Length > 0 ? slotOf[i] : -1).ToArray();
            var outputSlots = n.Outputs.Select(o => o.Length > 0 ? slotOf[o] : -1).ToArray();
            bool isConstant = IsFoldable(n) && inputSlots.All(s => s < 0 || constantSlot[s]);
            if (isConstant) foreach (var o in outputSlots) if (o >= 0) constantSlot[o] = true;
            steps.Add(new Step(k, n, kernel, inputSlots, outputSlots, [], isConstant));
            foreach (var used in TopologicalSort.UsedNames(n)) lastUse[slotOf[used]] = k;
            // An output nobody reads dies where it is made.
            foreach (var o in n.Outputs) if (o.Length > 0 && lastUse[slotOf[o]] < k) lastUse[slotOf[o]] = k;
        }
        // Free each intermediate after its last use; keep constants (computed ones too), captures and outputs.
        var keep = new HashSet<int>(OutputSlots);
        keep.UnionWith(Enumerable.Range(0, SlotCount).Where(s => constantSlot[s]));
        keep.UnionWith(_captures.Select(c => c.Slot));
        KeptSlots = keep;
        var releaseAt = new List<int>?[steps.Count];
        for (int slot = 0; slot < SlotCount; slot++)
            if (lastUse[slot] >= 0 && !keep.Contains(slot)) (releaseAt[lastUse[slot]] ??= new List<int>()).Add(slot);
        for (int k = 0; k < steps.Count; k++)
            steps[k] = steps[k] with { Release = releaseAt[k]?.ToArray() ?? [] };
        Steps = steps.ToArray();
        _constantsReady = !Steps.Any(st => st.IsConstant);
        // Only the main graph runs with an execution frame, which places Concat inputs.
        _concats = parent is null ? new ConcatPlacements(graph, opsets, Steps, TypeOf) : null;
    }

    // Nodes whose inputs are all constants run once, on the first run, and their outputs join the
    // constants (weights that models build with ConstantOfShape, shape arithmetic): loading stays fast
    // and later runs skip them.
    private static bool IsFoldable(Node n) => DeterministicNodes.IsDeterministic(n);

    private volatile bool _constantsReady;
    private readonly Lock _constantsLock = new();

    public Graph Graph { get; }
    internal OpsetImports Opsets { get; }
    internal CompiledGraph? Parent { get; }
    internal LoomSessionOptions Options { get; }
    internal Dictionary<string, int> SlotOf { get; }
    internal int SlotCount { get; }
    internal int[] InputSlots { get; }
    internal int[] OutputSlots { get; }
    internal Step[] Steps { get; }

    /// <summary>Concats whose inputs are computed straight into their output (see <see cref="ConcatPlacement"/>), as planned from the symbolic shapes.</summary>
    internal ConcatPlacement Concats => _concats?.Static ?? ConcatPlacement.None;

    /// <summary>The Concat placement for a run with these symbol sizes (planned once per set of input sizes).</summary>
    internal ConcatPlacement ConcatsFor(SymbolBindings bindings) => _concats?.For(bindings) ?? ConcatPlacement.None;

    private readonly ConcatPlacements? _concats;

    /// <summary>Slots never freed during a run: outputs, constants (computed ones too) and captures.</summary>
    internal IReadOnlySet<int> KeptSlots { get; }

    private IrType? TypeOf(string name) => Graph.TypeOf(name) ?? Parent?.TypeOf(name);

    private Tensor? ConstantOf(string name) =>
        Graph.Initializers.TryGetValue(name, out var t) ? t : SlotOf.ContainsKey(name) && !IsCapture(name) ? null : Parent?.ConstantOf(name);

    private bool IsCapture(string name) => _captureSlots.Contains(SlotOf[name]);

    /// <summary>Runs the graph on <paramref name="inputs"/> (graph input order; null keeps an initializer default).</summary>
    /// <remarks>
    /// With a <paramref name="frame"/> (the main graph of a session), outputs come from the frame's buffer
    /// pool and return to it after their last use; without one (subgraph bodies), they are plain arrays.
    /// </remarks>
    internal LoomValue[] Execute(RunState run, LoomValue?[]? parentSlots, ReadOnlySpan<LoomValue?> inputs, ExecutionFrame? frame = null)
    {
        var slots = PrepareSlots(run, parentSlots, inputs, frame);
        RunSteps(run, slots, frame, 0, Steps.Length);
        return CollectOutputs(slots);
    }

    /// <summary>Runs steps [<paramref name="from"/>, <paramref name="until"/>) in order on <paramref name="slots"/>, freeing each value after its last reader.</summary>
    internal void RunSteps(RunState run, LoomValue?[] slots, ExecutionFrame? frame, int from, int until)
    {
        var ctx = new KernelContext(run, this, slots, frame);
        // In order, a step is a value's last reader when the value is released after it.
        if (frame is not null) ctx.IsLastReader = slot => Array.IndexOf(ctx.Step.Release, slot) >= 0;
        for (int k = from; k < until && k < Steps.Length; k++)
        {
            var step = Steps[k];
            if (step.IsConstant) continue;
            run.Cancellation.ThrowIfCancellationRequested();
            long t0 = frame is not null && run.Trace is not null ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
            double cpu0 = t0 != 0 ? CpuClock.Thread() ?? double.NaN : 0;
            RunStep(ctx, step, run, slots);
            if (t0 != 0) run.Trace!.Add(step.Node, run.Worker, run.Threads, t0, System.Diagnostics.Stopwatch.GetTimestamp(), (CpuClock.Thread() ?? double.NaN) - cpu0);
            foreach (var s in step.Release)
            {
                frame?.Release(slots[s]);
                slots[s] = null;
            }
        }
    }

    /// <summary>The slots at the start of a run: constants, captures and inputs in place (constant steps evaluated on the first run).</summary>
    internal LoomValue?[] PrepareSlots(RunState run, LoomValue?[]? parentSlots, ReadOnlySpan<LoomValue?> inputs, ExecutionFrame? frame)
    {
        if (!_constantsReady) EvaluateConstantSteps(run);
        var slots = frame?.Slots ?? new LoomValue?[SlotCount];
        frame?.Place(ConcatsFor(run.Bindings));
        Array.Copy(_constants, slots, SlotCount);
        foreach (var (slot, parentSlot) in _captures) slots[slot] = parentSlots![parentSlot];
        for (int i = 0; i < InputSlots.Length && i < inputs.Length; i++)
            if (inputs[i] is { } v) slots[InputSlots[i]] = v;
        return slots;
    }

    internal LoomValue[] CollectOutputs(LoomValue?[] slots)
    {
        var outputs = new LoomValue[OutputSlots.Length];
        for (int i = 0; i < outputs.Length; i++)
            outputs[i] = slots[OutputSlots[i]] ?? throw new ExecutionException($"graph '{Graph.Name}' output '{Graph.Outputs[i].Name}' was not produced");
        return outputs;
    }

    internal void RunStep(KernelContext ctx, Step step, RunState run, LoomValue?[] slots)
    {
        ctx.Step = step;
        try
        {
            step.Kernel.Run(ctx);
        }
        catch (LoomException) { throw; }
        catch (OperationCanceledException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ExecutionException($"node {step.Node.DisplayName} failed: {e.GetType().Name}: {e.Message}", e);
        }
        for (int o = 0; o < step.Outputs.Length; o++)
        {
            int s = step.Outputs[o];
            if (s < 0) continue;
            if (slots[s] is null)
                throw new ExecutionException($"node {step.Node.DisplayName} did not produce its output '{step.Node.Outputs[o]}'");
            if (run.VerifyShapes && slots[s] is Tensor t) VerifyShape(run, step.Node, o, t);
        }
    }

    /// <summary>Runs the constant steps once (the first run that gets here) and keeps their outputs with the constants.</summary>
    private void EvaluateConstantSteps(RunState run)
    {
        lock (_constantsLock)
        {
            if (_constantsReady) return;
            var slots = (LoomValue?[])_constants.Clone();
            var ctx = new KernelContext(run, this, slots, frame: null);
            foreach (var step in Steps)
                if (step.IsConstant) RunStep(ctx, step, run, slots);
            foreach (var step in Steps)
                if (step.IsConstant)
                    foreach (var o in step.Outputs) if (o >= 0) _constants[o] = slots[o];
            _constantsReady = true;
        }
    }

    private void VerifyShape(RunState run, Node node, int output, Tensor actual)
    {
        var expected = _expected[SlotOf[node.Outputs[output]]];
        if (expected is null) return;
        if (expected.ElementType != DataType.Undefined && expected.ElementType != actual.DataType)
            throw new ExecutionException($"node {node.DisplayName}: output '{node.Outputs[output]}' is {actual.DataType.Name()} but type inference said {expected.ElementType.Name()}");
        if (expected.Shape is null) return;
        if (run.Bindings.Unify(expected.Shape, actual.Shape) is { } why)
            throw new ExecutionException($"node {node.DisplayName}: output '{node.Outputs[output]}' has shape {ShapeMath.Format(actual.Shape)} but shape inference said {expected.Shape}: {why}");
    }
}

/// <summary>State of one <c>Run</c> call shared by all graphs it executes.</summary>
internal sealed class RunState(LoomSessionOptions options, SymbolBindings bindings, Lazy<WorkerPool> pool, CancellationToken cancellation,
    RunTrace? trace = null, int worker = 0, int threads = 0)
{
    /// <summary>The worker this run's sequential part runs on, for traces.</summary>
    public int Worker { get; } = worker;

    /// <summary>Intra-op threads kernels of this run get, for traces (0: the whole pool).</summary>
    public int Threads => threads > 0 ? threads : Pool.Threads;

    public Lazy<WorkerPool> LazyPool => pool;

    /// <summary>Where the main graph's nodes are recorded, when the caller asked for a trace.</summary>
    public RunTrace? Trace { get; } = trace;

    public LoomSessionOptions Options { get; } = options;
    public SymbolBindings Bindings { get; } = bindings;
    public WorkerPool Pool => pool.Value;
    public CancellationToken Cancellation { get; } = cancellation;
    public bool VerifyShapes => Options.VerifyInferredShapes;

    public RunState Child() => VerifyShapes ? new RunState(Options, Bindings.Child(), pool, Cancellation, Trace, Worker, threads) : this;
}
