namespace Loom.Runtime.Memory;

/// <summary>
/// The element arrays of one execution frame, by element type, handed out best-fit. A run returns an
/// intermediate's array as soon as its last reader has run, and the next allocation of that run (or of
/// the next run) takes it again: memory is reused by liveness, and once a model has run at some input
/// shape, later runs at that shape allocate nothing. Among arrays that fit equally well it hands out the one
/// returned last: a value just read is likely still in cache, so the next output written over it does not
/// first pull cold lines from memory. Used by one run at a time, so it needs no locks.
/// </summary>
internal sealed class BufferPool
{
    private const int RunsBeforeTrim = 4;

    private sealed class Entry(int elementSize, int capacity, int offset)
    {
        public readonly int ElementSize = elementSize;
        public readonly int Capacity = capacity;
        public readonly int Offset = offset;
        public int LastRun;
        public long ReturnedAt;
        public bool InUse;
    }

    private readonly Dictionary<Type, List<Array>> _free = new();
    private readonly Dictionary<Array, Entry> _owned = new(ReferenceEqualityComparer.Instance);
    private readonly List<Array> _scratch = new();
    private readonly Dictionary<(Type, int Capacity), int> _sizeLastRented = new();
    private int _run;
    private long _returns;

    /// <summary>Bytes of the arrays the pool owns (free or handed out).</summary>
    public long Bytes { get; private set; }

    public bool Owns(Array a) => _owned.ContainsKey(a);

    /// <summary>Where a tensor in <paramref name="a"/> (an array this pool handed out) starts: on a 64-byte line for float32.</summary>
    public int OffsetOf(Array a) => _owned.TryGetValue(a, out var e) ? e.Offset : 0;

    /// <summary>Spare elements of each pooled float32 array: enough to start its data on a 64-byte line.</summary>
    internal const int AlignPad = 16;

    /// <summary>
    /// Float32 arrays are pinned, so they never move, and a tensor in one starts on its first 64-byte line. Kernels split
    /// their output over the cores in blocks of whole lines where the layout allows (columns in tiles of 32 floats, output
    /// channels in tiles of 32 planes): on line boundaries no line is written by both cores, which makes every store into
    /// it wait for the other core's copy, and no vector store is split across two lines (unaligned, the 1×1 layers at
    /// 56×56 and 28×28 of ResNet-50 took 2–4% more CPU time on one thread, 3–14% on two).
    /// </summary>
    private static Array Allocate(Type elementType, int length) =>
        elementType == typeof(float) ? GC.AllocateArray<float>(length + AlignPad, pinned: true) : Array.CreateInstance(elementType, length);

    private static unsafe Entry NewEntry(Array a, int elementSize)
    {
        if (a is not float[] f || f.Length <= AlignPad) return new Entry(elementSize, a.Length, 0);
        // Element offset of the first 64-byte line; arrays start 8-byte aligned, so it is at most 14 floats in.
        fixed (float* p = f)
            return new Entry(elementSize, f.Length - AlignPad, (int)((64 - ((nint)p & 63)) & 63) / sizeof(float));
    }

    /// <summary>An array of element type <paramref name="elementType"/> with at least <paramref name="length"/> elements.</summary>
    public Array Rent(Type elementType, int length, int elementSize)
    {
        if (!_free.TryGetValue(elementType, out var list)) _free[elementType] = list = new List<Array>();
        int best = -1;
        int bestLen = 0;
        for (int i = 0; i < list.Count; i++)
        {
            int len = _owned[list[i]].Capacity;
            // Best fit; among equal sizes the array returned last, whose lines are likeliest still in cache.
            if (len >= length && (best < 0 || len < bestLen || len == bestLen && _owned[list[i]].ReturnedAt > _owned[list[best]].ReturnedAt))
            {
                best = i;
                bestLen = len;
            }
        }
        Array a;
        // Do not spend a much larger array on a small request: the run likely needs it later.
        if (best >= 0 && bestLen <= 2L * length + 1024)
        {
            a = list[best];
            list[best] = list[^1];
            list.RemoveAt(list.Count - 1);
        }
        else
        {
            a = Allocate(elementType, RoundUp(length));
            _owned[a] = NewEntry(a, elementSize);
            Bytes += (long)a.Length * elementSize;
        }
        var e = _owned[a];
        e.InUse = true;
        e.LastRun = _run;
        _sizeLastRented[(elementType, e.Capacity)] = _run;
        return a;
    }

    /// <summary>Takes an owned array back for reuse.</summary>
    public void Return(Array a)
    {
        if (!_owned.TryGetValue(a, out var e) || !e.InUse) return;
        e.InUse = false;
        e.ReturnedAt = ++_returns;
        var t = a.GetType().GetElementType()!;
        if (!_free.TryGetValue(t, out var list)) _free[t] = list = new List<Array>();
        list.Add(a);
    }

    /// <summary>Gives up an array for good (a run's output that the caller keeps).</summary>
    public void Release(Array a)
    {
        if (!_owned.Remove(a, out var e)) return;
        Bytes -= (long)a.Length * e.ElementSize;
        if (!e.InUse) _free[a.GetType().GetElementType()!].Remove(a);
    }

    /// <summary>Takes back an array the pool once gave up (outputs the caller has finished with).</summary>
    public void Adopt(Array a, int elementSize)
    {
        if (_owned.ContainsKey(a)) return;
        var e = NewEntry(a, elementSize);
        e.InUse = true;
        e.LastRun = _run;
        _owned[a] = e;
        Bytes += (long)a.Length * elementSize;
        Return(a);
    }

    /// <summary>
    /// Ends a run: every array still handed out returns (the run's values are dead now), and free arrays
    /// of a size no run has used for a few runs are dropped, so a session that once ran a huge input does not keep
    /// that memory forever.
    /// </summary>
    public void EndRun()
    {
        _scratch.Clear();
        foreach (var (a, e) in _owned) if (e.InUse) _scratch.Add(a);
        foreach (var a in _scratch) Return(a);
        _scratch.Clear();
        _run++;
        foreach (var list in _free.Values)
            for (int i = list.Count - 1; i >= 0; i--)
                if (Idle(list[i]))
                {
                    var a = list[i];
                    list[i] = list[^1];
                    list.RemoveAt(list.Count - 1);
                    Bytes -= (long)a.Length * _owned[a].ElementSize;
                    _sizeLastRented.Remove((a.GetType().GetElementType()!, _owned[a].Capacity)); // a size gone stale: not kept for ever
                    _owned.Remove(a);
                }
    }

    /// <summary>
    /// Whether free array <paramref name="a"/> is no longer needed: neither it nor any array of its size was rented for a few runs.
    /// Outputs a caller holds (a stream's items in flight) come back a few runs later, and the pool hands out the array returned
    /// last among those that fit equally well, so in steady state a spare of a size every run takes may sit free for more runs
    /// than <see cref="RunsBeforeTrim"/> and then be needed again: dropping it made a 2-stage stream allocate a new output
    /// (32 KiB an item, 288 KiB a batch of 8) every few runs.
    /// </summary>
    private bool Idle(Array a)
    {
        var e = _owned[a];
        if (_run - e.LastRun <= RunsBeforeTrim) return false;
        return !_sizeLastRented.TryGetValue((a.GetType().GetElementType()!, e.Capacity), out int last) || _run - last > RunsBeforeTrim;
    }

    /// <summary>Sizes round up a little so that slightly different shapes (a varying batch) still fit an existing array.</summary>
    private static int RoundUp(int n)
    {
        if (n <= 64) return Math.Max(n, 1);
        return (int)Math.Min(n + (long)(n >> 3), Array.MaxLength);
    }
}
