using Loom.Streams.Graph;

namespace Loom.Streams.Execution;

/// <summary>Splitters and joiners: plain generic loops moving items between rings.</summary>
public static class SplitJoinCode
{
    public static Action<int> Splitter<T>(Channel<T> input, Channel<T>?[] outs, SplitSpec spec)
    {
        var weights = spec.Weights;
        if (spec.Kind == SplitKind.Duplicate)
            return n =>
            {
                var ib = input.Buf;
                int im = input.Mask, h = input.Head;
                for (int k = 0; k < n; k++)
                {
                    var v = ib[h++ & im];
                    foreach (var o in outs)
                        if (o is not null) o.Buf[o.Tail++ & o.Mask] = v;
                }
                input.Head = h;
            };
        return n =>
        {
            var ib = input.Buf;
            int im = input.Mask, h = input.Head;
            for (int k = 0; k < n; k++)
                for (int i = 0; i < outs.Length; i++)
                {
                    var o = outs[i];
                    int w = weights[i];
                    if (o is null) { h += w; continue; }
                    var ob = o.Buf;
                    int om = o.Mask, t = o.Tail;
                    for (int j = 0; j < w; j++) ob[t++ & om] = ib[h++ & im];
                    o.Tail = t;
                }
            input.Head = h;
        };
    }

    public static Action<int> Joiner<T>(Channel<T>?[] ins, Channel<T> output, int[] weights) => n =>
    {
        var ob = output.Buf;
        int om = output.Mask, t = output.Tail;
        for (int k = 0; k < n; k++)
            for (int i = 0; i < ins.Length; i++)
            {
                var c = ins[i];
                int w = weights[i];
                if (c is null || w == 0) continue;
                var ib = c.Buf;
                int im = c.Mask, h = c.Head;
                for (int j = 0; j < w; j++) ob[t++ & om] = ib[h++ & im];
                c.Head = h;
            }
        output.Tail = t;
    };
}
