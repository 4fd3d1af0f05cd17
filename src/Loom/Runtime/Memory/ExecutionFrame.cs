using System.Collections.Concurrent;

namespace Loom.Runtime.Memory;

/// <summary>
/// Everything one run of a session's main graph needs that can outlive the run: the value slots, the
/// buffer pool, reference counts of pooled buffers (views share a buffer) and the tensor headers each
/// step produced last time. A session keeps a few frames and gives each concurrent run its own, so
/// steady-state runs reuse memory and headers instead of allocating per operator. The nodes of one run may
/// execute on several threads at once (a scheduled run), so the pool and the reference counts are taken
/// under a lock; it is held for a dictionary update, never while a kernel runs.
/// </summary>
internal sealed class ExecutionFrame
{
    private readonly Dictionary<Array, int> _refs = new(ReferenceEqualityComparer.Instance);
    private readonly Tensor?[][] _headers;
    private readonly ConcurrentQueue<(Array Buffer, int ElementSize)> _returned = new();
    private readonly Lock _lock = new();

    public ExecutionFrame(CompiledGraph graph)
    {
        Slots = new LoomValue?[graph.SlotCount];
        _headers = graph.Steps.Select(s => new Tensor?[s.Outputs.Length]).ToArray();
        _concats = graph.Concats;
        _pending = new Dictionary<int, Array>();
    }

    private ConcatPlacement _concats;

    /// <summary>
    /// Sets the Concat placement for the run about to start (the plan for its input sizes, <see cref="ConcatPlacements"/>). Called
    /// before any step allocates, so no Concat's buffer is pending under the previous plan.
    /// </summary>
    public void Place(ConcatPlacement placement)
    {
        lock (_lock)
        {
            if (_pending.Count > 0) throw new ExecutionException("internal: a frame's Concat placement changed while a Concat's buffer was pending");
            _concats = placement;
        }
    }

    /// <summary>Concat step → the output buffer its first in-place input took this run, until the Concat itself runs.</summary>
    private readonly Dictionary<int, Array> _pending;

    public LoomValue?[] Slots { get; }

    /// <summary>State of scheduled (parallel) runs of this frame, made by the first.</summary>
    public Parallel.ParallelRun? Scheduled { get; set; }
    public BufferPool Pool { get; } = new();

    /// <summary>A zeroed (if <paramref name="clear"/>) pooled tensor for output <paramref name="output"/> of step <paramref name="step"/>.</summary>
    public Tensor Allocate(int step, int output, DataType dataType, ReadOnlySpan<int> shape, bool clear)
    {
        int n = (int)ShapeMath.Size(shape);
        if (dataType == DataType.String || n == 0) return Tensor.Zeros(dataType, shape);
        Array buffer;
        int offset = 0;
        lock (_lock)
        {
            if (!_concats.IsEmpty && _concats.TryMember(step, output, out var slice) && slice.Length == n
                && _concats.TryConcat(slice.Concat, out var whole) && whole.Type == dataType)
            {
                // An input of an in-place Concat: its slice of the Concat's buffer (rented by the first of them).
                if (!_pending.TryGetValue(slice.Concat, out buffer!))
                    _pending[slice.Concat] = buffer = Pool.Rent(dataType.ClrType(), (int)whole.Length, dataType.ElementSize());
                offset = (int)slice.Offset;
            }
            else if (!_concats.IsEmpty && _pending.Remove(step, out var placed) && _concats.TryConcat(step, out var planned)
                     && planned.Type == dataType && planned.Length == n)
                buffer = placed; // the Concat's own output: its inputs already sit in it
            else buffer = Pool.Rent(dataType.ClrType(), n, dataType.ElementSize());
            // Pooled float32 arrays start their tensors (a Concat's slices: the Concat's tensor) on a 64-byte line.
            offset += Pool.OffsetOf(buffer);
        }
        if (clear) Array.Clear(buffer, offset, n);
        var cached = _headers[step][output];
        if (cached is not null && ReferenceEquals(cached.Buffer, buffer) && cached.Offset == offset && cached.DataType == dataType
            && cached.Shape.SequenceEqual(shape))
            return cached;
        var t = new Tensor(dataType, shape.ToArray(), buffer, offset);
        _headers[step][output] = t;
        return t;
    }

    /// <summary>A pooled tensor no step makes (a split batch's values joined for its tail), held by one slot.</summary>
    public Tensor Hold(DataType dataType, int[] shape)
    {
        int n = (int)ShapeMath.Size(shape);
        if (dataType == DataType.String || n == 0) return Tensor.Zeros(dataType, shape);
        lock (_lock)
        {
            var buffer = Pool.Rent(dataType.ClrType(), n, dataType.ElementSize());
            _refs[buffer] = 1;
            return new Tensor(dataType, shape, buffer, Pool.OffsetOf(buffer));
        }
    }

    /// <summary>
    /// Output <paramref name="output"/> of step <paramref name="step"/> in the storage of <paramref name="input"/>, or null unless
    /// that buffer is pooled, held by that slot alone and placed in no Concat: the caller has made sure no one reads the input
    /// after this step (its last reader) and that the kernel reads each input element before writing the same element.
    /// </summary>
    public Tensor? InPlace(int step, int output, Tensor input)
    {
        lock (_lock)
        {
            if (!Pool.Owns(input.Buffer) || _refs.GetValueOrDefault(input.Buffer) != 1) return null;
            foreach (var placed in _pending.Values) if (ReferenceEquals(placed, input.Buffer)) return null;
        }
        var cached = _headers[step][output];
        if (cached is not null && ReferenceEquals(cached.Buffer, input.Buffer) && cached.Offset == input.Offset && cached.DataType == input.DataType
            && cached.Shape.SequenceEqual(input.Shape))
            return cached;
        var t = new Tensor(input.DataType, input.Shape.ToArray(), input.Buffer, input.Offset);
        _headers[step][output] = t;
        return t;
    }

    /// <summary>Counts a slot's reference to a pooled buffer; tensors put inside sequences or optionals leave the pool for good.</summary>
    public void Retain(LoomValue value)
    {
        if (value is not (Tensor or TensorSequence or OptionalValue)) return;
        lock (_lock)
            switch (value)
            {
                case Tensor t when Pool.Owns(t.Buffer):
                    _refs[t.Buffer] = _refs.GetValueOrDefault(t.Buffer) + 1;
                    break;
                case TensorSequence or OptionalValue:
                    Escape(value);
                    break;
                // MapValue and MapSequence hold their own arrays, never pooled buffers: nothing to count.
            }
    }

    /// <summary>Drops a slot's reference; the buffer returns to the pool when no slot refers to it.</summary>
    public void Release(LoomValue? value)
    {
        if (value is not Tensor t) return;
        lock (_lock)
        {
            if (!_refs.TryGetValue(t.Buffer, out var n)) return;
            if (n > 1) { _refs[t.Buffer] = n - 1; return; }
            _refs.Remove(t.Buffer);
            Pool.Return(t.Buffer);
        }
    }

    /// <summary>
    /// A value that leaves the frame (a model output, or held by a sequence) keeps its buffers; those
    /// that were pooled are added to <paramref name="released"/> when given.
    /// </summary>
    public void Escape(LoomValue? value, List<(Array, int)>? released = null)
    {
        switch (value)
        {
            case Tensor t:
                _refs.Remove(t.Buffer);
                if (Pool.Owns(t.Buffer))
                {
                    Pool.Release(t.Buffer);
                    released?.Add((t.Buffer, t.DataType.ElementSize()));
                }
                break;
            case TensorSequence s:
                foreach (var item in s.Items) Escape(item, released);
                break;
            case OptionalValue o:
                Escape(o.Value, released);
                break;
            // Maps own their arrays (see Retain): nothing leaves the pool with them.
        }
    }

    /// <summary>Called from any thread when a caller disposes a result: buffers that came from this pool may serve a later run.</summary>
    public void GiveBack((Array Buffer, int ElementSize)[] buffers)
    {
        foreach (var b in buffers) _returned.Enqueue(b);
    }

    /// <summary>Prepares the frame for a run: takes back buffers of disposed results.</summary>
    public void BeginRun()
    {
        _pending.Clear(); // a failed run may have left a Concat's buffer placed (the pool took it back at its end)
        while (_returned.TryDequeue(out var r)) Pool.Adopt(r.Buffer, r.ElementSize);
    }

    /// <summary>
    /// Ends a run whose outputs are <paramref name="outputs"/>: they escape, every other buffer returns.
    /// Returns the pooled buffers the outputs took with them (for <see cref="GiveBack"/>).
    /// </summary>
    public (Array, int)[] EndRun(LoomValue[] outputs)
    {
        _escaped.Clear();
        foreach (var o in outputs) Escape(o, _escaped);
        _refs.Clear();
        Array.Clear(Slots);
        Pool.EndRun();
        return _escaped.Count == 0 ? [] : _escaped.ToArray();
    }

    private readonly List<(Array, int)> _escaped = new();
}
