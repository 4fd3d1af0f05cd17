using System.Collections.Concurrent;
using Loom.Streams.Scheduling;

namespace Loom.Streams.Execution;

/// <summary>
/// A demand-driven program on two cores: the regions are cut at one dynamic queue into an upstream part, run on a
/// thread of its own as fast as a bounded hand-off allows (it never waits for the downstream part), and a
/// downstream part run on the caller's thread by pulls as usual, whose pulls on the cut queue take the upstream
/// part's items in chunks. Only when the cut is the one connection between the parts and nothing upstream prints
/// (so the printed lines are the sequential ones); otherwise the program runs on one thread.
/// </summary>
internal static class DynamicSplit
{
    private const int ChunkItems = 4096, ChunksAhead = 16;

    /// <summary>The cut queue and the regions upstream of it, or null when no cut qualifies.</summary>
    public static (Edge Cut, bool[] Upstream)? FindCut(StreamProgram p)
    {
        var g = p.Flat;
        var region = DynamicRunner.RegionsOf(g);
        int n = region.Length == 0 ? 0 : region.Max() + 1;
        var cost = new double[n];
        foreach (var a in g.Actors) cost[region[a.Index]] += p.Demand!.Repetitions[a.Index] * (a.Pop.Sum() + a.Push.Sum() + 1.0);
        (Edge, bool[], double)? best = null;
        foreach (var e in g.Edges.Where(e => e.Dynamic))
        {
            // Upstream: every region from which the cut's source can be reached.
            var up = new bool[n];
            up[region[e.Src.Index]] = true;
            for (bool changed = true; changed;)
            {
                changed = false;
                foreach (var x in g.Edges)
                    if (up[region[x.Dst.Index]] && !up[region[x.Src.Index]]) { up[region[x.Src.Index]] = changed = true; }
            }
            if (up[region[e.Dst.Index]]) continue;
            if (g.Edges.Any(x => x != e && up[region[x.Src.Index]] != up[region[x.Dst.Index]])) continue;
            if (g.Actors.Any(a => up[region[a.Index]] && a.Filter is { Symbol.PrintsInWork: true })) continue;
            double u = Enumerable.Range(0, n).Where(r => up[r]).Sum(r => cost[r]), total = cost.Sum();
            double imbalance = Math.Abs(total - 2 * u);
            if (best is null || imbalance < best.Value.Item3) best = (e, up, imbalance);
        }
        return best is { } b ? (b.Item1, b.Item2) : null;
    }

    public static long Run(StreamProgram p, Edge cut, bool[] upstream, long iterations)
    {
        var region = DynamicRunner.RegionsOf(p.Flat);
        var consumerSide = (DynamicChannel)cut.Channel!;
        // The cut's producer writes into a queue of its own (its code recompiled against it); chunks move across.
        var producerSide = DynamicChannel.Create(consumerSide.ItemType, cut + " (upstream side)");
        var code = p.Code.ToArray();
        cut.Channel = producerSide;
        try { code[cut.Src.Index] = ActorCode.Compile(cut.Src, p.Globals, p.Printer); }
        finally { cut.Channel = consumerSide; }
        var up = new DynamicRunner(p.Flat, p.Demand!, code, include: r => upstream[r]);
        var down = new DynamicRunner(p.Flat, p.Demand!, code, include: r => !upstream[r]);
        using var handoff = new BlockingCollection<Array>(ChunksAhead);
        using var stop = new CancellationTokenSource();
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try
            {
                long idle = 0;
                int last = 0;
                up.Run(long.MaxValue, () =>
                {
                    // As on one thread: a producer that keeps firing without pushing is a deadlock, not a hang.
                    if (producerSide.Count != last) { idle = 0; last = producerSide.Count; }
                    else if (++idle > 1 << 20) throw new StreamException($"deadlock: {cut} waits for items, but its producer fired {1 << 20} times in a row without pushing any");
                    if (producerSide.Count < ChunkItems) return;
                    handoff.Add(producerSide.TakeAll(), stop.Token);
                    last = 0;
                });
            }
            catch (OperationCanceledException) { }
            catch (Exception e) { failure = e; }
            finally { handoff.CompleteAdding(); }
        }) { IsBackground = true, Name = "loom-stream-upstream" };
        consumerSide.Pull = () =>
        {
            try { consumerSide.Append(handoff.Take(stop.Token)); }
            catch (InvalidOperationException) when (failure is not null)
            {
                throw failure is LoomException or StopRunException ? failure : new StreamException($"the upstream part failed: {failure.Message}", failure);
            }
        };
        worker.Start();
        try { return down.Run(iterations); }
        finally
        {
            stop.Cancel();
            worker.Join();
        }
    }
}
