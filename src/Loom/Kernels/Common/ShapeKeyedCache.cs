namespace Loom.Kernels.Common;

/// <summary>
/// A kernel's last shape-derived value (window geometry, output shape), reused while the shapes it was
/// computed from stay the same, so a steady-state run allocates nothing for it. The entry is immutable
/// and replaced whole, so concurrent runs at different shapes only cost a recomputation, never a wrong answer.
/// </summary>
internal sealed class ShapeKeyedCache<TValue> where TValue : class
{
    private sealed record Entry(int[] A, int[] B, TValue Value);

    private Entry? _last;

    /// <summary>The value for shapes <paramref name="a"/> and <paramref name="b"/>; <paramref name="compute"/> (a static lambda) runs on a miss.</summary>
    public TValue Get<TState>(ReadOnlySpan<int> a, ReadOnlySpan<int> b, TState state, Func<TState, TValue> compute)
    {
        var e = Volatile.Read(ref _last);
        if (e is null || !a.SequenceEqual(e.A) || !b.SequenceEqual(e.B))
        {
            e = new Entry(a.ToArray(), b.ToArray(), compute(state));
            Volatile.Write(ref _last, e);
        }
        return e.Value;
    }
}
