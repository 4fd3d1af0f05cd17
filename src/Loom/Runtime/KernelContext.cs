using Loom.IR;

namespace Loom.Runtime;

/// <summary>
/// What a kernel sees while it runs one node: its inputs, a way to allocate or set its outputs, and
/// a way to run subgraphs. One context serves all the nodes one thread runs in one graph execution, so
/// running a node allocates nothing here.
/// </summary>
public sealed class KernelContext
{
    private readonly RunState _run;
    private readonly CompiledGraph _graph;
    private readonly LoomValue?[] _slots;
    private readonly Memory.ExecutionFrame? _frame;

    private readonly Threading.WorkerPool? _pool;

    /// <param name="pool">The threads kernels may split work across; null for the session's pool.</param>
    internal KernelContext(RunState run, CompiledGraph graph, LoomValue?[] slots, Memory.ExecutionFrame? frame, Threading.WorkerPool? pool = null)
    {
        _run = run;
        _graph = graph;
        _slots = slots;
        _frame = frame;
        _pool = pool;
    }

    internal CompiledGraph.Step Step { get; set; } = null!;

    public Node Node => Step.Node;

    public LoomSessionOptions Options => _run.Options;

    public CancellationToken Cancellation => _run.Cancellation;

    /// <summary>
    /// The session's intra-op threads. Split work with <c>ctx.Pool.Run(parts, job)</c> where job is a
    /// struct implementing <see cref="Threading.IParallelJob"/>; use about 2-4 parts per thread for balance.
    /// </summary>
    public Threading.WorkerPool Pool => _pool ?? _run.Pool;

    /// <summary>Number of inputs the node lists (including omitted optional ones).</summary>
    public int InputCount => Step.Inputs.Length;

    public int OutputCount => Step.Outputs.Length;

    /// <summary>True when input <paramref name="i"/> is present and has a value.</summary>
    public bool HasInput(int i) => i < Step.Inputs.Length && Step.Inputs[i] >= 0 && _slots[Step.Inputs[i]] is not null;

    /// <summary>The input value (tensor, sequence or optional), or null when omitted.</summary>
    public LoomValue? InputValue(int i) => HasInput(i) ? _slots[Step.Inputs[i]] : null;

    /// <summary>A required tensor input.</summary>
    public Tensor Input(int i) => InputValue(i) switch
    {
        Tensor t => t,
        null => throw Fail($"input {i} is missing"),
        var v => throw Fail($"input {i} ('{Node.Inputs[i]}') is {v.Type}, not a tensor"),
    };

    /// <summary>An optional tensor input: null when omitted (or an empty name).</summary>
    public Tensor? OptionalInput(int i) => InputValue(i) switch
    {
        null => null,
        Tensor t => t,
        var v => throw Fail($"input {i} ('{Node.Inputs[i]}') is {v.Type}, not a tensor"),
    };

    /// <summary>True when the node wants output <paramref name="i"/> (it is listed and not an empty name).</summary>
    public bool IsOutputRequested(int i) => i < Step.Outputs.Length && Step.Outputs[i] >= 0;

    /// <summary>Allocates output <paramref name="i"/>, zero-filled. An output the node does not request still gets a tensor (to write into) but is not kept.</summary>
    public Tensor AllocateOutput(int i, DataType dataType, ReadOnlySpan<int> shape) => AllocateOutput(i, dataType, shape, clear: true);

    /// <summary>
    /// Allocates output <paramref name="i"/>; with <paramref name="clear"/> false its elements are whatever
    /// the reused buffer held, for kernels that write every element anyway.
    /// </summary>
    public Tensor AllocateOutput(int i, DataType dataType, ReadOnlySpan<int> shape, bool clear)
    {
        long n = ShapeMath.Size(shape);
        long bytes = n * Math.Max(1, dataType.ElementSize());
        if (bytes > Options.MaxTensorBytes || n > Array.MaxLength)
            throw new ResourceLimitException($"node {Node.DisplayName}: output {i} of shape {ShapeMath.Format(shape)} ({dataType.Name()}) needs {bytes} bytes, above the cap of {Options.MaxTensorBytes} (LoomSessionOptions.MaxTensorBytes)");
        var t = _frame is not null && IsOutputRequested(i)
            ? _frame.Allocate(Step.Index, i, dataType, shape, clear)
            : Tensor.Zeros(dataType, shape);
        SetOutput(i, t);
        return t;
    }

    /// <summary>
    /// Says whether the running step is the last reader of a slot in this run; null (subgraphs, executors that do not
    /// track it) means inputs are never overwritten.
    /// </summary>
    internal Func<int, bool>? IsLastReader { get; set; }

    /// <summary>
    /// Output <paramref name="output"/> in the storage of input <paramref name="input"/> (same dtype and shape), when nothing
    /// reads that input after this node and no other input of the node shares its buffer; null otherwise. For kernels that
    /// read every element of that input before writing the same element of the output (a residual summed in an epilogue).
    /// </summary>
    public Tensor? TryAllocateOutputInPlace(int output, int input)
    {
        if (_frame is null || IsLastReader is null || !IsOutputRequested(output) || input >= Step.Inputs.Length) return null;
        int slot = Step.Inputs[input];
        if (slot < 0 || _slots[slot] is not Tensor z || !IsLastReader(slot)) return null;
        for (int i = 0; i < Step.Inputs.Length; i++)
            if (i != input && Step.Inputs[i] >= 0 && (Step.Inputs[i] == slot || _slots[Step.Inputs[i]] is Tensor other && ReferenceEquals(other.Buffer, z.Buffer)))
                return null;
        if (_frame.InPlace(Step.Index, output, z) is not { } t) return null;
        SetOutput(output, t);
        return t;
    }

    /// <summary>Sets output <paramref name="i"/> to an existing value (a view of an input, a sequence, an optional).</summary>
    public void SetOutput(int i, LoomValue value)
    {
        if (!IsOutputRequested(i)) return;
        ref var slot = ref _slots[Step.Outputs[i]];
        if (_frame is not null)
        {
            _frame.Release(slot);
            _frame.Retain(value);
        }
        slot = value;
    }

    /// <summary>
    /// Runs a compiled subgraph with the given inputs; it sees this graph's values (and those around it)
    /// by name. Returns its outputs in order.
    /// </summary>
    public LoomValue[] RunSubgraph(CompiledGraph subgraph, ReadOnlySpan<LoomValue?> inputs)
    {
        if (!ReferenceEquals(subgraph.Parent, _graph))
            throw new InvalidOperationException("a subgraph must be run from the graph that compiled it");
        return subgraph.Execute(_run.Child(), _slots, inputs);
    }

    /// <summary>
    /// The size of a symbolic dim under this run's bindings, or null while any of its symbols is unbound.
    /// (For outputs whose shape no input determines, such as the stacked outputs of a Loop that ran zero
    /// times, so they agree with the inferred type.)
    /// </summary>
    public long? EvaluateDim(Dim dim) => dim.Evaluate(s => _run.Bindings[s]);

    /// <summary>An execution error naming this node.</summary>
    public ExecutionException Fail(string message) => new($"node {Node.DisplayName}: {message}");
}
