using Loom.Runtime;

namespace Loom.Kernels.Common;

/// <summary>The sizes of one Attention call, read from its inputs and checked for consistency.</summary>
internal sealed record AttentionDims(
    bool IsRank3,
    int Batch,
    int QHeads,
    int KvHeads,
    int QSeq,
    int KvSeq,
    int PastSeq,
    int HeadSize,
    int VHeadSize)
{
    public int TotalSeq => PastSeq + KvSeq;

    /// <summary>Query heads that share one kv head (1 for plain multi-head attention).</summary>
    public int Group => QHeads / KvHeads;

    public int[] OutputShape => IsRank3 ? [Batch, QSeq, QHeads * VHeadSize] : [Batch, QHeads, QSeq, VHeadSize];
    public int[] PresentKeyShape => [Batch, KvHeads, TotalSeq, HeadSize];
    public int[] PresentValueShape => [Batch, KvHeads, TotalSeq, VHeadSize];
    public int[] QkShape => [Batch, QHeads, QSeq, TotalSeq];

    public static AttentionDims Resolve(KernelContext ctx, AttentionOptions o, Tensor q, Tensor k, Tensor v, Tensor? pastKey, Tensor? pastValue)
    {
        int rank = q.Rank;
        if (rank is not (3 or 4)) throw ctx.Fail($"Q must be 3-D or 4-D, got shape {ShapeMath.Format(q.Shape)}");
        if (k.Rank != rank || v.Rank != rank)
            throw ctx.Fail($"Q, K and V must have the same rank; got {ShapeMath.Format(q.Shape)}, {ShapeMath.Format(k.Shape)}, {ShapeMath.Format(v.Shape)}");
        int batch = q.Shape[0];
        if (k.Shape[0] != batch || v.Shape[0] != batch)
            throw ctx.Fail($"Q, K and V must have the same batch size; got {ShapeMath.Format(q.Shape)}, {ShapeMath.Format(k.Shape)}, {ShapeMath.Format(v.Shape)}");

        int qHeads, kvHeads, qSeq, kvSeq, headSize, vHeadSize;
        if (rank == 3)
        {
            if (o.QNumHeads == 0 || o.KvNumHeads == 0) throw ctx.Fail("3-D Q, K, V need the q_num_heads and kv_num_heads attributes");
            (qHeads, kvHeads) = (o.QNumHeads, o.KvNumHeads);
            (qSeq, kvSeq) = (q.Shape[1], k.Shape[1]);
            if (q.Shape[2] % qHeads != 0) throw ctx.Fail($"Q hidden size {q.Shape[2]} is not a multiple of q_num_heads {qHeads}");
            if (k.Shape[2] % kvHeads != 0 || v.Shape[2] % kvHeads != 0)
                throw ctx.Fail($"K and V hidden sizes ({k.Shape[2]}, {v.Shape[2]}) must be multiples of kv_num_heads {kvHeads}");
            headSize = q.Shape[2] / qHeads;
            if (k.Shape[2] / kvHeads != headSize)
                throw ctx.Fail($"K head size {k.Shape[2] / kvHeads} differs from Q head size {headSize}");
            vHeadSize = v.Shape[2] / kvHeads;
            if (v.Shape[1] != kvSeq) throw ctx.Fail($"K and V sequence lengths differ ({kvSeq} vs {v.Shape[1]})");
        }
        else
        {
            (qHeads, kvHeads) = (q.Shape[1], k.Shape[1]);
            if ((o.QNumHeads != 0 && o.QNumHeads != qHeads) || (o.KvNumHeads != 0 && o.KvNumHeads != kvHeads))
                throw ctx.Fail($"q_num_heads/kv_num_heads ({o.QNumHeads}/{o.KvNumHeads}) disagree with the 4-D shapes of Q {ShapeMath.Format(q.Shape)} and K {ShapeMath.Format(k.Shape)}");
            if (v.Shape[1] != kvHeads) throw ctx.Fail($"K and V head counts differ ({kvHeads} vs {v.Shape[1]})");
            (qSeq, kvSeq, headSize, vHeadSize) = (q.Shape[2], k.Shape[2], q.Shape[3], v.Shape[3]);
            if (k.Shape[3] != headSize) throw ctx.Fail($"K head size {k.Shape[3]} differs from Q head size {headSize}");
            if (v.Shape[2] != kvSeq) throw ctx.Fail($"K and V sequence lengths differ ({kvSeq} vs {v.Shape[2]})");
        }
        if (kvHeads == 0 || qHeads % kvHeads != 0)
            throw ctx.Fail($"the number of query heads ({qHeads}) must be a multiple of the number of key/value heads ({kvHeads})");

        int past = 0;
        if ((pastKey is null) != (pastValue is null)) throw ctx.Fail("past_key and past_value must be given together");
        if (pastKey is not null && pastValue is not null)
        {
            past = pastKey.Rank == 4 ? pastKey.Shape[2] : -1;
            if (!pastKey.Shape.SequenceEqual([batch, kvHeads, past, headSize]))
                throw ctx.Fail($"past_key has shape {ShapeMath.Format(pastKey.Shape)}, expected [{batch},{kvHeads},past_sequence_length,{headSize}]");
            if (!pastValue.Shape.SequenceEqual([batch, kvHeads, past, vHeadSize]))
                throw ctx.Fail($"past_value has shape {ShapeMath.Format(pastValue.Shape)}, expected [{batch},{kvHeads},{past},{vHeadSize}]");
        }
        return new AttentionDims(rank == 3, batch, qHeads, kvHeads, qSeq, kvSeq, past, headSize, vHeadSize);
    }
}
