using Loom.Streams.Graph;

namespace Loom.Streams.Execution;

/// <summary>
/// Splitters and joiners with a dynamic queue on some edge: item by item, each port a ring or a queue (a pop
/// from a queue pulls its producer). Only for programs run demand-driven, where these are rarely the hot path.
/// </summary>
public static class DynamicSplitJoinCode
{
    private static Func<T> Popper<T>(Channel c) => c switch
    {
        DynamicChannel<T> q => q.Pop,
        Channel<T> r => () => r.Buf[r.Head++ & r.Mask],
        _ => throw new StreamException($"internal: a channel of {c.ItemType.Name} where {typeof(T).Name} was expected"),
    };

    private static Action<T> Pusher<T>(Channel c) => c switch
    {
        DynamicChannel<T> q => q.Push,
        Channel<T> r => v => r.Buf[r.Tail++ & r.Mask] = v,
        _ => throw new StreamException($"internal: a channel of {c.ItemType.Name} where {typeof(T).Name} was expected"),
    };

    public static Action<int> Splitter<T>(Channel input, Channel?[] outs, SplitSpec spec)
    {
        var pop = Popper<T>(input);
        var push = outs.Select(o => o is null ? null : Pusher<T>(o)).ToArray();
        var w = spec.Weights;
        if (spec.Kind == SplitKind.Duplicate)
            return n =>
            {
                for (int k = 0; k < n; k++)
                {
                    var v = pop();
                    foreach (var p in push) p?.Invoke(v);
                }
            };
        return n =>
        {
            for (int k = 0; k < n; k++)
                for (int i = 0; i < push.Length; i++)
                    for (int j = 0; j < w[i]; j++) push[i]!(pop());
        };
    }

    public static Action<int> Joiner<T>(Channel?[] ins, Channel output, int[] weights)
    {
        var push = Pusher<T>(output);
        var pop = ins.Select(c => c is null ? null : Popper<T>(c)).ToArray();
        return n =>
        {
            for (int k = 0; k < n; k++)
                for (int i = 0; i < pop.Length; i++)
                    for (int j = 0; j < weights[i]; j++) push(pop[i]!());
        };
    }
}
