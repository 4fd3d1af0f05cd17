using Loom.Streams.Graph;

namespace Loom.Streams.Execution;

/// <summary>
/// Splitters and joiners: generic loops moving items between rings. They work output by output (one ring
/// at a time, contiguous runs copied as blocks) rather than item by item across all rings, which keeps a
/// wide duplicate splitter from touching every ring for every item.
/// </summary>
public static class SplitJoinCode
{
    /// <summary>Copies <paramref name="count"/> items starting at ring index <paramref name="from"/> to ring index <paramref name="to"/>.</summary>
    private static void Copy<T>(T[] src, int srcMask, int from, T[] dst, int dstMask, int to, int count)
    {
        int s = from & srcMask, d = to & dstMask;
        if (s + count <= src.Length && d + count <= dst.Length)
        {
            Array.Copy(src, s, dst, d, count);
            return;
        }
        for (int j = 0; j < count; j++) dst[(to + j) & dstMask] = src[(from + j) & srcMask];
    }

    public static Action<int> Splitter<T>(Channel<T> input, Channel<T>?[] outs, SplitSpec spec)
    {
        var weights = spec.Weights;
        int total = weights.Sum();
        if (spec.Kind == SplitKind.Duplicate)
            return n =>
            {
                foreach (var o in outs)
                {
                    if (o is null) continue;
                    Copy(input.Buf, input.Mask, input.Head, o.Buf, o.Mask, o.Tail, n);
                    o.Tail += n;
                }
                input.Head += n;
            };
        return n =>
        {
            var ib = input.Buf;
            int im = input.Mask, h = input.Head, offset = 0;
            for (int i = 0; i < outs.Length; i++)
            {
                var o = outs[i];
                int w = weights[i];
                if (o is not null && w > 0)
                {
                    var ob = o.Buf;
                    int om = o.Mask, t = o.Tail;
                    if (w == 1)
                        for (int k = 0; k < n; k++) ob[t++ & om] = ib[(h + offset + k * total) & im];
                    else
                        for (int k = 0; k < n; k++, t += w) Copy(ib, im, h + offset + k * total, ob, om, t, w);
                    o.Tail = t;
                }
                offset += w;
            }
            input.Head = h + n * total;
        };
    }

    public static Action<int> Joiner<T>(Channel<T>?[] ins, Channel<T> output, int[] weights)
    {
        int total = weights.Sum();
        return n =>
        {
            var ob = output.Buf;
            int om = output.Mask, t = output.Tail, offset = 0;
            for (int i = 0; i < ins.Length; i++)
            {
                var c = ins[i];
                int w = weights[i];
                if (c is not null && w > 0)
                {
                    var ib = c.Buf;
                    int im = c.Mask, h = c.Head;
                    if (w == 1)
                        for (int k = 0; k < n; k++) ob[(t + offset + k * total) & om] = ib[h++ & im];
                    else
                        for (int k = 0; k < n; k++, h += w) Copy(ib, im, h, ob, om, t + offset + k * total, w);
                    c.Head = h;
                }
                offset += w;
            }
            output.Tail = t + n * total;
        };
    }
}
