namespace Loom.Dynamic.Data;

/// <summary>
/// The rival's input order: one Fisher–Yates shuffle from the back driven by SplitMix64
/// (<c>for i = N-1 .. 1: j = next() % (i+1); swap(order[i], order[j])</c>); forward k takes positions
/// kB … kB+B−1 of it, cyclically.
/// </summary>
public static class InputOrder
{
    public static int[] Shuffle(int count, ulong seed)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        var rng = new SplitMix64(seed);
        for (int i = count - 1; i >= 1; i--)
        {
            int j = (int)(rng.Next() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>The inputs of forward <paramref name="k"/> with <paramref name="perForward"/> inputs each, wrapping around.</summary>
    public static void Forward<T>(IReadOnlyList<T> items, int[] order, int k, int perForward, List<T> into)
    {
        into.Clear();
        long start = (long)k * perForward;
        for (int i = 0; i < perForward; i++) into.Add(items[order[(int)((start + i) % order.Length)]]);
    }
}

/// <summary>Vigna's SplitMix64: the rival's generator, also Loom's parameter initializer.</summary>
public struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 24 bits (exactly representable as float).</summary>
    public float NextFloat() => (Next() >> 40) * (1.0f / (1 << 24));
}
