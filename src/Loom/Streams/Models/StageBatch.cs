using System.Collections.Concurrent;

namespace Loom.Streams.Models;

/// <summary>
/// Stacks the items of one firing of a batched stage (<see cref="StagePlan.ItemsPerFiring"/>) into batch tensors
/// and splits the batch's outputs back into per-item results. The stacking buffers are pooled per stage (with the
/// counter that frees them) and go back to the pool only when every item's result is disposed (an output may be a
/// view of an input: a Reshape), and the per-item outputs are views of the batch's, so a firing in steady state
/// allocates no tensor memory. What a firing needs only while it runs (its feeds, shapes, the items' results before
/// they are passed on) is a <see cref="Firing"/>'s, one per copy of the stage: per item, only the result handed on
/// (its outputs' array and views) is new.
/// </summary>
internal sealed class StageBatch(int itemsPerFiring)
{
    private readonly ConcurrentBag<Share> _shares = [];

    public int ItemsPerFiring { get; } = itemsPerFiring;

    /// <summary>
    /// One copy's scratch for its firings, used by one thread at a time: a stage's copies run on different threads, each
    /// with its own. Shapes are kept while they repeat; they are never changed once a tensor holds them.
    /// </summary>
    public sealed class Firing(int itemsPerFiring)
    {
        internal readonly Dictionary<string, LoomValue> Feeds = [];
        internal readonly List<Dictionary<string, LoomValue>> Values = new(itemsPerFiring);
        internal readonly RunResult[] Results = new RunResult[itemsPerFiring];
        internal Tensor[] First = [];
        internal int[]?[] FeedDims = [];
        internal int[]?[] ItemDims = [];
    }

    /// <summary>
    /// Stacks the feeds of <c>firing.Values</c> along a leading batch dim into <c>firing.Feeds</c>, or returns null when they
    /// cannot be (a value missing, not a tensor, or items differing in shape or type): the caller then runs the items one at a time.
    /// </summary>
    public IDisposable? Stack(string[] reads, Firing firing)
    {
        var values = firing.Values;
        int k = values.Count;
        if (firing.First.Length != reads.Length) (firing.First, firing.FeedDims) = (new Tensor[reads.Length], new int[]?[reads.Length]);
        var first = firing.First;
        for (int r = 0; r < reads.Length; r++)
        {
            if (!values[0].TryGetValue(reads[r], out var v0) || v0 is not Tensor t0 || t0.Rank < 1 || t0.Shape[0] != 1) return null;
            for (int i = 1; i < k; i++)
                if (!values[i].TryGetValue(reads[r], out var v) || v is not Tensor t || t.DataType != t0.DataType || !t.Shape.SequenceEqual(t0.Shape)) return null;
            first[r] = t0;
        }
        if (!_shares.TryTake(out var share)) share = new Share(this);
        if (!Fits(share.Buffers, first)) share.Buffers = first.Select(t => Array.CreateInstance(t.DataType.ClrType(), (long)t.Length * ItemsPerFiring)).ToArray();
        var buffers = share.Buffers;
        var feeds = firing.Feeds;
        feeds.Clear();
        for (int r = 0; r < reads.Length; r++)
        {
            int len = first[r].Length;
            for (int i = 0; i < k; i++)
            {
                var t = (Tensor)values[i][reads[r]];
                Array.Copy(t.Buffer, t.Offset, buffers[r], i * len, len);
            }
            var dims = Batched(ref firing.FeedDims[r], first[r].Shape, k);
            feeds[reads[r]] = new Tensor(first[r].DataType, dims, buffers[r], 0);
            first[r] = null!; // the firing's scratch holds no item's tensor past its firing
        }
        return share;
    }

    /// <summary><paramref name="shape"/> with its leading dim <paramref name="lead"/>: the one <paramref name="kept"/> when it is that, else a new one kept.</summary>
    private static int[] Batched(ref int[]? kept, ReadOnlySpan<int> shape, int lead)
    {
        if (kept is { } d && d.Length == shape.Length && d[0] == lead && shape[1..].SequenceEqual(d.AsSpan(1))) return d;
        var dims = shape.ToArray();
        dims[0] = lead;
        return kept = dims;
    }

    private bool Fits(Array[] buffers, Tensor[] first)
    {
        if (buffers.Length != first.Length) return false;
        for (int r = 0; r < first.Length; r++)
            if (buffers[r].GetType().GetElementType() != first[r].DataType.ClrType() || buffers[r].Length < (long)first[r].Length * ItemsPerFiring) return false;
        return true;
    }

    /// <summary>
    /// Splits a batch of <paramref name="k"/> items' outputs into one result per item (<c>firing.Results[0..k)</c>): views of the
    /// batch's tensors. <paramref name="lease"/> is what <see cref="Stack"/> returned; it frees the batch with the last item's result.
    /// </summary>
    public void Split(RunResult batch, int k, IDisposable lease, Firing firing, int stage)
    {
        var share = (Share)lease;
        share.Hold(batch, k);
        if (firing.ItemDims.Length != batch.Count) firing.ItemDims = new int[]?[batch.Count];
        for (int o = 0; o < batch.Count; o++)
        {
            if (batch[o].Value is not Tensor t || t.Rank < 1 || t.Shape[0] != k)
            {
                share.Abandon();
                throw new StreamException($"stage{stage}: output '{batch[o].Name}' of a batch of {k} items is {batch[o].Value.Type}, not batch-first");
            }
            Batched(ref firing.ItemDims[o], t.Shape, 1);
        }
        for (int i = 0; i < k; i++)
        {
            var named = new NamedValue[batch.Count];
            for (int o = 0; o < batch.Count; o++)
            {
                var t = (Tensor)batch[o].Value;
                int len = t.Length / k;
                named[o] = new NamedValue(batch[o].Name, new Tensor(t.DataType, firing.ItemDims[o]!, t.Buffer, t.Offset + i * len));
            }
            firing.Results[i] = new RunResult(named, share);
        }
    }

    /// <summary>Gives the stacking buffers back when a batch failed before its outputs were split.</summary>
    public void Return(IDisposable? lease)
    {
        if (lease is Share share) _shares.Add(share);
    }

    /// <summary>
    /// A firing's stacking buffers and, once run, its batch's outputs: freed when the last of its items' results is disposed,
    /// then back in the pool for a later firing. Each item's result disposes it once (<see cref="RunResult.Dispose"/>).
    /// </summary>
    private sealed class Share(StageBatch owner) : IDisposable
    {
        internal Array[] Buffers = [];
        private RunResult? _batch;
        private int _left;

        public void Hold(RunResult batch, int items)
        {
            _batch = batch;
            Volatile.Write(ref _left, items);
        }

        public void Dispose()
        {
            if (Interlocked.Decrement(ref _left) != 0) return;
            Abandon();
        }

        public void Abandon()
        {
            var batch = _batch;
            _batch = null;
            batch?.Dispose();
            owner._shares.Add(this);
        }
    }
}
