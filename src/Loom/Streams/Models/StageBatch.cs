using System.Collections.Concurrent;

namespace Loom.Streams.Models;

/// <summary>
/// Stacks the items of one firing of a batched stage (<see cref="StagePlan.ItemsPerFiring"/>) into batch tensors
/// and splits the batch's outputs back into per-item results. The stacking buffers are pooled per stage and go
/// back to the pool only when every item's result is disposed (an output may be a view of an input: a Reshape),
/// and the per-item outputs are views of the batch's, so a firing in steady state allocates no tensor memory.
/// </summary>
internal sealed class StageBatch(int itemsPerFiring)
{
    private readonly ConcurrentBag<Array[]> _buffers = [];

    public int ItemsPerFiring { get; } = itemsPerFiring;

    /// <summary>
    /// The feeds of <paramref name="values"/> stacked along a leading batch dim, or null when they cannot be (a value
    /// missing, not a tensor, or items differing in shape or type): the caller then runs the items one at a time.
    /// </summary>
    public Dictionary<string, LoomValue>? Stack(string[] reads, IReadOnlyList<Dictionary<string, LoomValue>> values, out Array[]? rented)
    {
        rented = null;
        int k = values.Count;
        var first = new Tensor[reads.Length];
        for (int r = 0; r < reads.Length; r++)
        {
            if (!values[0].TryGetValue(reads[r], out var v0) || v0 is not Tensor t0 || t0.Rank < 1 || t0.Shape[0] != 1) return null;
            for (int i = 1; i < k; i++)
                if (!values[i].TryGetValue(reads[r], out var v) || v is not Tensor t || t.DataType != t0.DataType || !t.Shape.SequenceEqual(t0.Shape)) return null;
            first[r] = t0;
        }
        if (!_buffers.TryTake(out var buffers) || !Fits(buffers, first)) buffers = first.Select(t => Array.CreateInstance(t.DataType.ClrType(), (long)t.Length * ItemsPerFiring)).ToArray();
        rented = buffers;
        var feeds = new Dictionary<string, LoomValue>(reads.Length);
        for (int r = 0; r < reads.Length; r++)
        {
            int len = first[r].Length;
            for (int i = 0; i < k; i++)
            {
                var t = (Tensor)values[i][reads[r]];
                Array.Copy(t.Buffer, t.Offset, buffers[r], i * len, len);
            }
            var dims = first[r].Dims.ToArray();
            dims[0] = k;
            feeds[reads[r]] = new Tensor(first[r].DataType, dims, buffers[r], 0);
        }
        return feeds;
    }

    private bool Fits(Array[] buffers, Tensor[] first)
    {
        if (buffers.Length != first.Length) return false;
        for (int r = 0; r < first.Length; r++)
            if (buffers[r].GetType().GetElementType() != first[r].DataType.ClrType() || buffers[r].Length < (long)first[r].Length * ItemsPerFiring) return false;
        return true;
    }

    /// <summary>Splits a batch of <paramref name="k"/> items' outputs into one result per item: views of the batch's tensors.</summary>
    public RunResult[] Split(RunResult batch, int k, Array[] rented, string stage)
    {
        var share = new Share(batch, k, rented, this);
        var dims = new int[batch.Count][];
        for (int o = 0; o < batch.Count; o++)
        {
            if (batch[o].Value is not Tensor t || t.Rank < 1 || t.Shape[0] != k)
            {
                share.Abandon();
                throw new StreamException($"{stage}: output '{batch[o].Name}' of a batch of {k} items is {batch[o].Value.Type}, not batch-first");
            }
            dims[o] = t.Dims.ToArray();
            dims[o][0] = 1;
        }
        var results = new RunResult[k];
        for (int i = 0; i < k; i++)
        {
            var named = new NamedValue[batch.Count];
            for (int o = 0; o < batch.Count; o++)
            {
                var t = (Tensor)batch[o].Value;
                int len = t.Length / k;
                named[o] = new NamedValue(batch[o].Name, new Tensor(t.DataType, dims[o], t.Buffer, t.Offset + i * len));
            }
            results[i] = new RunResult(named, share);
        }
        return results;
    }

    /// <summary>Gives the stacking buffers back when a batch failed before its outputs were split.</summary>
    public void Return(Array[]? rented)
    {
        if (rented is not null) _buffers.Add(rented);
    }

    /// <summary>The batch's outputs and stacking buffers, freed when the last of its items' results is disposed.</summary>
    private sealed class Share(RunResult batch, int items, Array[] rented, StageBatch owner) : IDisposable
    {
        private int _left = items;

        public void Dispose()
        {
            if (Interlocked.Decrement(ref _left) != 0) return;
            batch.Dispose();
            owner.Return(rented);
        }

        public void Abandon()
        {
            batch.Dispose();
            owner.Return(rented);
        }
    }
}
