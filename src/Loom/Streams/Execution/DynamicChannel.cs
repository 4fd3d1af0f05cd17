namespace Loom.Streams.Execution;

/// <summary>
/// A growable queue on an edge that static scheduling does not size: one side of it has a dynamic rate ('*' or
/// a range), or the program is run demand-driven for teleport messages. Work functions reach it through method
/// calls (not the ring's array): a pop or peek beyond what is there pulls the producer's region
/// (<see cref="Pull"/>) until the items exist; a push beyond the capacity doubles it.
/// </summary>
public abstract class DynamicChannel : Channel
{
    /// <summary>Runs the producer's region once (set by <see cref="DynamicRunner"/>).</summary>
    public Action? Pull;
    public string Name = "";

    /// <summary>Takes every item here, in order (for handing them to another thread).</summary>
    public abstract Array TakeAll();
    /// <summary>Appends items taken from a twin of this queue.</summary>
    public abstract void Append(Array items);

    public static DynamicChannel Create(Type itemType, string name) =>
        (DynamicChannel)Activator.CreateInstance(typeof(DynamicChannel<>).MakeGenericType(itemType), name)!;

    // Pulls nest (a region's firing pulls the region before it): bound the depth so a very long chain of
    // dynamic queues is an error, not a stack overflow that would kill the process.
    [ThreadStatic] private static int _depth;
    private const int MaxDepth = 2000;

    /// <summary>Pulls the producer until at least <paramref name="n"/> items are here.</summary>
    public void Fill(long n)
    {
        if (Tail - Head >= n) return;
        if (++_depth > MaxDepth)
        {
            _depth = 0;
            throw new StreamException($"demand-driven pulls nest more than {MaxDepth} queues deep at {Name}: too many dynamic-rate regions in a row");
        }
        try { PullUntil(n); }
        finally { if (_depth > 0) _depth--; }
    }

    private void PullUntil(long n)
    {
        // A producer that keeps firing without pushing anything ('push *' pushing 0 forever) would spin:
        // give up after a long run of fruitless pulls and say which edge starved.
        int idle = 0;
        while (Tail - Head < n)
        {
            if (Pull is null) throw new StreamException($"internal: nothing feeds the dynamic queue {Name}");
            int before = Tail;
            Pull();
            if (Tail != before) idle = 0;
            else if (++idle > 1 << 20)
                throw new StreamException($"deadlock: {Name} needs {n} item(s) but its producer fired {1 << 20} times in a row without pushing any");
        }
    }
}

public sealed class DynamicChannel<T> : DynamicChannel
{
    public T[] Buf = new T[16];
    private int _mask = 15;

    public DynamicChannel(string name) { Name = name; }

    public override Type ItemType => typeof(T);
    public override Array Items => Buf;
    public override void PushBoxed(object? item) => Push((T)item!);

    public override Array TakeAll()
    {
        var a = new T[Tail - Head];
        for (int i = 0; i < a.Length; i++) a[i] = Buf[(Head + i) & _mask];
        Head = Tail;
        return a;
    }

    public override void Append(Array items)
    {
        foreach (var v in (T[])items) Push(v);
    }

    public T Pop()
    {
        if (Tail == Head) Fill(1);
        return Buf[Head++ & _mask];
    }

    public T Peek(int i)
    {
        if (Tail - Head <= i) Fill(i + 1);
        return Buf[(Head + i) & _mask];
    }

    /// <summary>Drops n items (pulling them first: the producer's firings still happen, as in the static schedule).</summary>
    public void Skip(int n)
    {
        if (Tail - Head < n) Fill(n);
        Head += n;
    }

    public void Push(T v)
    {
        if (Tail - Head == Buf.Length) Grow();
        Buf[Tail++ & _mask] = v;
    }

    private void Grow()
    {
        if (Buf.Length >= 1 << 24) throw new StreamException($"the dynamic queue {Name} grew past {1 << 24} items (its consumer never takes them?)");
        var next = new T[Buf.Length * 2];
        int n = Tail - Head;
        for (int i = 0; i < n; i++) next[i] = Buf[(Head + i) & _mask];
        Buf = next;
        _mask = next.Length - 1;
        Head = 0;
        Tail = n;
    }
}
