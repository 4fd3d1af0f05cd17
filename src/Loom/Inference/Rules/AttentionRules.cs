using Loom.IR;

namespace Loom.Inference.Rules;

/// <summary>Shape rule of Attention: Y, present_key, present_value and qk_matmul_output.</summary>
[ShapeRules]
internal static class AttentionRules
{
    public static void Register(ShapeRules r) => r.Add("Attention", Attention);

    private static Shape S(params Dim[] dims) => new(dims);

    private static void Attention(InferenceContext ctx)
    {
        Shape? q = ctx.InputShape(0), k = ctx.InputShape(1), v = ctx.InputShape(2);
        DataType qType = ctx.InputDataType(0), kType = ctx.InputDataType(1), vType = ctx.InputDataType(2);
        int rank = q?.Rank ?? k?.Rank ?? v?.Rank ?? -1;
        if (rank == -1)
        {
            ctx.SetOutput(0, qType, null);
            ctx.SetOutput(1, kType, null);
            ctx.SetOutput(2, vType, null);
            ctx.SetOutput(3, qType, null);
            return;
        }
        if (rank is not (3 or 4)) throw ctx.Fail($"Q, K and V must be 3-D or 4-D, got rank {rank}");
        foreach (var s in new[] { q, k, v })
            if (s is not null && s.Rank != rank) throw ctx.Fail($"Q, K and V must have the same rank; got {q}, {k}, {v}");

        Dim Known(Dim? d) => d ?? ctx.NewSymbol();
        Dim batch = Known(q?[0] ?? k?[0] ?? v?[0]);
        Dim qHeads, kvHeads, qSeq, kvSeq, headSize, vHeadSize;
        if (rank == 4)
        {
            (qHeads, qSeq) = (Known(q?[1]), Known(q?[2]));
            headSize = Known(q?[3] ?? k?[3]);
            kvHeads = Known(k?[1] ?? v?[1]);
            kvSeq = Known(k?[2] ?? v?[2]);
            vHeadSize = Known(v?[3]);
        }
        else
        {
            long qh = ctx.GetInt("q_num_heads", 0), kvh = ctx.GetInt("kv_num_heads", 0);
            if (qh <= 0 || kvh <= 0) throw ctx.Fail("3-D Q, K, V need positive q_num_heads and kv_num_heads attributes");
            (qHeads, kvHeads) = (qh, kvh);
            qSeq = Known(q?[1]);
            kvSeq = Known(k?[1] ?? v?[1]);
            headSize = q is not null ? Dim.FloorDiv(q[2], qh) : k is not null ? Dim.FloorDiv(k[2], kvh) : ctx.NewSymbol();
            vHeadSize = v is not null ? Dim.FloorDiv(v[2], kvh) : ctx.NewSymbol();
        }
        Dim past = ctx.HasInput(4) ? Known(ctx.InputShape(4) is { Rank: 4 } p ? p[2] : null) : Dim.Zero;
        Dim total = past + kvSeq;

        ctx.SetOutput(0, qType, q is null ? null
            : rank == 4 ? S(batch, qHeads, qSeq, vHeadSize) : S(batch, qSeq, qHeads * vHeadSize));
        ctx.SetOutput(1, kType, S(batch, kvHeads, total, headSize));
        ctx.SetOutput(2, vType, S(batch, kvHeads, total, vHeadSize));
        ctx.SetOutput(3, qType, S(batch, qHeads, qSeq, total));
    }
}
