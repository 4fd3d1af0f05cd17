namespace Loom.Streams.Execution;

/// <summary>
/// The items on one edge of the flat graph: a ring of power-of-two capacity, sized from the schedule so it
/// never overflows. Indices are free-running ints (they wrap; only their low bits and differences matter).
/// Compiled work functions read <see cref="Buf"/>, <see cref="Head"/> and <see cref="Tail"/> directly.
/// </summary>
public abstract class Channel
{
    public int Head;
    public int Tail;
    public int Mask { get; protected init; }
    public int Count => Tail - Head;
    public abstract Type ItemType { get; }
    /// <summary>The ring's array (for moving items in and out of a fused program's buffers).</summary>
    public abstract Array Items { get; }
    public abstract void PushBoxed(object? item);

    public static Channel Create(Type itemType, int minCapacity)
    {
        int cap = 1;
        while (cap < Math.Max(minCapacity, 1)) cap <<= 1;
        return (Channel)Activator.CreateInstance(typeof(Channel<>).MakeGenericType(itemType), cap)!;
    }
}

public sealed class Channel<T> : Channel
{
    public readonly T[] Buf;

    public Channel(int capacity)
    {
        Buf = new T[capacity];
        Mask = capacity - 1;
    }

    public override Type ItemType => typeof(T);

    public override Array Items => Buf;

    public override void PushBoxed(object? item) => Buf[Tail++ & Mask] = (T)item!;
}
