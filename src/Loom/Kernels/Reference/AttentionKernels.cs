using System.Numerics;
using System.Numerics.Tensors;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Attention (opset 23+): scaled dot-product attention with masks, KV cache, GQA and softcap.</summary>
[KernelRegistrations]
internal static class AttentionKernels
{
    private static readonly DataType[] FloatTypes = [DataType.Float, DataType.Double, DataType.Float16, DataType.BFloat16];

    public static void Register(KernelRegistry r) =>
        r.Add("Attention", info => new AttentionKernel(AttentionOptions.Parse(info)), 23, types: FloatTypes);

    private sealed class AttentionKernel(AttentionOptions options) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var q = ctx.Input(0);
            if (SequenceNumerics.ComputesInDouble(q.DataType)) Run<double>(ctx, q);
            else Run<float>(ctx, q);
        }

        private void Run<T>(KernelContext ctx, Tensor q) where T : struct, IFloatingPointIeee754<T>
        {
            Tensor k = ctx.Input(1), v = ctx.Input(2);
            Tensor? pastKey = ctx.OptionalInput(4), pastValue = ctx.OptionalInput(5);
            var d = AttentionDims.Resolve(ctx, options, q, k, v, pastKey, pastValue);
            foreach (var t in new[] { k, v, pastKey, pastValue })
                if (t is not null && !SequenceNumerics.IsSupportedFloat(t.DataType))
                    throw ctx.Fail($"K, V and the past caches must be floating point, got {t.DataType.Name()}");
            var bias = new AttentionBias<T>(ctx, d, options, ctx.OptionalInput(3), ctx.OptionalInput(6));

            // Everything is computed in (batch, heads, seq, size) order; 3-D inputs are split into heads first.
            var qh = HeadsFirst(SequenceNumerics.Read<T>(q), d.IsRank3, d.Batch, d.QSeq, d.QHeads, d.HeadSize);
            var keys = WithPast(pastKey, HeadsFirst(SequenceNumerics.Read<T>(k), d.IsRank3, d.Batch, d.KvSeq, d.KvHeads, d.HeadSize), d, d.HeadSize);
            var values = WithPast(pastValue, HeadsFirst(SequenceNumerics.Read<T>(v), d.IsRank3, d.Batch, d.KvSeq, d.KvHeads, d.VHeadSize), d, d.VHeadSize);
            if (ctx.IsOutputRequested(1)) SequenceNumerics.Write<T>(ctx, 1, k.DataType, d.PresentKeyShape, keys);
            if (ctx.IsOutputRequested(2)) SequenceNumerics.Write<T>(ctx, 2, v.DataType, d.PresentValueShape, values);

            bool wantQk = ctx.IsOutputRequested(3);
            var y = new T[d.Batch * d.QHeads * d.QSeq * d.VHeadSize];
            var qk = wantQk ? new T[d.Batch * d.QHeads * d.QSeq * d.TotalSeq] : null;
            var step = new AttentionStep<T>(d, options, bias);
            for (int b = 0; b < d.Batch; b++)
                for (int h = 0; h < d.QHeads; h++)
                    step.Run(b, h, qh, keys, values, y, qk);

            SequenceNumerics.Write<T>(ctx, 0, q.DataType, d.OutputShape,
                d.IsRank3 ? SequenceFirst(y, d.Batch, d.QHeads, d.QSeq, d.VHeadSize) : y);
            if (qk is not null) SequenceNumerics.Write<T>(ctx, 3, q.DataType, d.QkShape, qk);
        }
    }

    /// <summary>A 3-D (batch, seq, heads·size) buffer as (batch, heads, seq, size); 4-D buffers already are.</summary>
    private static T[] HeadsFirst<T>(T[] src, bool isRank3, int batch, int seq, int heads, int size)
    {
        if (!isRank3 || heads == 1 || seq == 1) return src;
        var dst = new T[src.Length];
        for (int b = 0; b < batch; b++)
            for (int s = 0; s < seq; s++)
                for (int h = 0; h < heads; h++)
                    src.AsSpan(((b * seq + s) * heads + h) * size, size).CopyTo(dst.AsSpan(((b * heads + h) * seq + s) * size, size));
        return dst;
    }

    /// <summary>The inverse of <see cref="HeadsFirst"/>: (batch, heads, seq, size) to (batch, seq, heads·size).</summary>
    private static T[] SequenceFirst<T>(T[] src, int batch, int heads, int seq, int size)
    {
        if (heads == 1 || seq == 1) return src;
        var dst = new T[src.Length];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int s = 0; s < seq; s++)
                    src.AsSpan(((b * heads + h) * seq + s) * size, size).CopyTo(dst.AsSpan(((b * seq + s) * heads + h) * size, size));
        return dst;
    }

    /// <summary>The present cache: past (batch, kv_heads, past, size) followed by the new entries along the sequence.</summary>
    private static T[] WithPast<T>(Tensor? past, T[] current, AttentionDims d, int size) where T : struct, IFloatingPointIeee754<T>
    {
        if (past is null || d.PastSeq == 0) return current;
        var p = SequenceNumerics.Read<T>(past);
        var dst = new T[d.Batch * d.KvHeads * d.TotalSeq * size];
        int pastBlock = d.PastSeq * size, curBlock = d.KvSeq * size, block = pastBlock + curBlock;
        for (int i = 0; i < d.Batch * d.KvHeads; i++)
        {
            p.AsSpan(i * pastBlock, pastBlock).CopyTo(dst.AsSpan(i * block));
            current.AsSpan(i * curBlock, curBlock).CopyTo(dst.AsSpan(i * block + pastBlock));
        }
        return dst;
    }
}
