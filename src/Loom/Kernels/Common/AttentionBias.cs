using System.Numerics;
using Loom.Runtime;

namespace Loom.Kernels.Common;

/// <summary>
/// The additive bias of one Attention call, built one (batch, head) block at a time: the attn_mask
/// (bool: true → 0, false → −∞; numeric: added as is), broadcast to (batch, q_heads, q_seq, total_seq)
/// and padded with −∞ when its last dim is shorter; then the causal and sliding-window frontiers and
/// the nonpad_kv_seqlen padding, all as −∞. Causal and window positions are aligned bottom-right by the
/// count of valid keys before the query block (the past length, or nonpad_kv_seqlen − q_seq per batch).
/// </summary>
internal sealed class AttentionBias<T> where T : struct, IFloatingPointIeee754<T>
{
    private readonly AttentionDims _d;
    private readonly AttentionOptions _o;
    private readonly T[]? _mask;          // converted to additive form
    private readonly int[] _maskStrides = new int[4]; // over (batch, head, q, kv); 0 where broadcast
    private readonly int _maskKv;         // mask's last dim (≤ total_seq)
    private readonly long[]? _nonpad;

    public AttentionBias(KernelContext ctx, AttentionDims d, AttentionOptions o, Tensor? mask, Tensor? nonpad)
    {
        _d = d;
        _o = o;
        if (nonpad is not null)
        {
            if (nonpad.DataType != DataType.Int64 || !nonpad.Shape.SequenceEqual([d.Batch]))
                throw ctx.Fail($"nonpad_kv_seqlen must be an int64 tensor of shape [{d.Batch}], got {nonpad}");
            if (d.PastSeq > 0) throw ctx.Fail("nonpad_kv_seqlen cannot be combined with past_key/past_value");
            _nonpad = nonpad.ToArray<long>();
            foreach (var n in _nonpad)
                if (n < 0 || n > d.TotalSeq) throw ctx.Fail($"nonpad_kv_seqlen value {n} is outside [0, {d.TotalSeq}]");
        }
        if (mask is null) return;

        int rank = mask.Rank;
        if (rank is < 1 or > 4) throw ctx.Fail($"attn_mask must have rank 1 to 4, got shape {ShapeMath.Format(mask.Shape)}");
        int[] target = [d.Batch, d.QHeads, d.QSeq, d.TotalSeq];
        var dims = new int[4];
        for (int i = 0; i < 4; i++) dims[i] = i - (4 - rank) >= 0 ? mask.Shape[i - (4 - rank)] : 1;
        for (int i = 0; i < 3; i++)
            if (dims[i] != 1 && dims[i] != target[i])
                throw ctx.Fail($"attn_mask of shape {ShapeMath.Format(mask.Shape)} does not broadcast to [{string.Join(",", target)}]");
        if (dims[3] > d.TotalSeq)
            throw ctx.Fail($"attn_mask's last dim {dims[3]} exceeds the total sequence length {d.TotalSeq}");
        _maskKv = dims[3];
        int acc = 1;
        for (int i = 3; i >= 0; i--) { _maskStrides[i] = dims[i] == 1 ? 0 : acc; acc *= dims[i]; }
        _mask = ToAdditive(mask);
    }

    /// <summary>False when every bias entry is zero (nothing to add, no row can be fully masked).</summary>
    public bool IsActive => _mask is not null || _o.IsCausal || _o.LeftWindow >= 0 || _o.RightWindow >= 0 || _nonpad is not null;

    private static T[] ToAdditive(Tensor mask)
    {
        if (mask.DataType == DataType.Bool)
        {
            var b = mask.AsReadOnlySpan<bool>();
            var r = new T[b.Length];
            for (int i = 0; i < r.Length; i++) r[i] = b[i] ? T.Zero : T.NegativeInfinity;
            return r;
        }
        if (SequenceNumerics.IsSupportedFloat(mask.DataType)) return SequenceNumerics.Read<T>(mask);
        var n = new T[mask.Length]; // integer masks are added numerically, as the reference does
        for (int i = 0; i < n.Length; i++) n[i] = T.CreateTruncating(mask.GetDouble(i));
        return n;
    }

    /// <summary>
    /// Writes the q_seq × total_seq bias of (<paramref name="b"/>, <paramref name="h"/>) into
    /// <paramref name="bias"/>, and sets <paramref name="rowMasked"/>[i] when query row i may attend no key.
    /// </summary>
    public void Fill(int b, int h, Span<T> bias, Span<bool> rowMasked)
    {
        int qSeq = _d.QSeq, total = _d.TotalSeq;
        bias.Clear();
        if (_mask is not null)
        {
            int baseOffset = b * _maskStrides[0] + h * _maskStrides[1];
            for (int i = 0; i < qSeq; i++)
            {
                var row = bias.Slice(i * total, total);
                int off = baseOffset + i * _maskStrides[2];
                for (int j = 0; j < _maskKv; j++) row[j] = _mask[off + j * _maskStrides[3]];
                row[_maskKv..].Fill(T.NegativeInfinity);
            }
        }
        long offset = _d.PastSeq > 0 ? _d.PastSeq : _nonpad is not null ? _nonpad[b] - qSeq : 0;
        for (int i = 0; i < qSeq; i++)
        {
            var row = bias.Slice(i * total, total);
            long p = offset + i; // absolute position of query i
            // Keys allowed by causal/window/padding form one interval [lo, hi].
            long lo = 0, hi = total - 1;
            if (_o.IsCausal) hi = Math.Min(hi, p);
            if (_o.RightWindow >= 0) hi = Math.Min(hi, p + _o.RightWindow);
            if (_o.LeftWindow >= 0) lo = Math.Max(lo, p - _o.LeftWindow);
            if (_nonpad is not null) hi = Math.Min(hi, _nonpad[b] - 1);
            for (long j = 0; j < total; j++)
                if (j < lo || j > hi) row[(int)j] = T.NegativeInfinity;
            bool any = false;
            foreach (var x in row)
                if (!T.IsNegativeInfinity(x)) { any = true; break; }
            rowMasked[i] = !any;
        }
    }
}
