using System.Numerics;
using System.Numerics.Tensors;
using Loom.Kernels.Common;

namespace Loom.Kernels.Reference;

/// <summary>
/// One (batch, query head) block of attention: scores = scale·Q·Kᵀ → softcap → + bias → softmax
/// (fully masked rows give zero weights) → weights·V, capturing the qk_matmul_output stage asked for.
/// One instance serves one kernel run (it owns that run's scratch buffers).
/// </summary>
internal sealed class AttentionStep<T>(AttentionDims d, AttentionOptions o, AttentionBias<T> bias)
    where T : struct, IFloatingPointIeee754<T>
{
    private readonly T _scale = T.CreateTruncating(o.Scale ?? 1.0 / Math.Sqrt(d.HeadSize));
    private readonly T _softcap = T.CreateTruncating(o.Softcap);
    private readonly T[] _scores = new T[d.QSeq * d.TotalSeq];
    private readonly T[] _bias = bias.IsActive ? new T[d.QSeq * d.TotalSeq] : [];
    private readonly bool[] _masked = new bool[d.QSeq];

    public void Run(int b, int h, T[] q, T[] keys, T[] values, T[] y, T[]? qk)
    {
        int qSeq = d.QSeq, total = d.TotalSeq, size = d.HeadSize, vSize = d.VHeadSize;
        int kvHead = h / d.Group;
        int block = (b * d.QHeads + h) * qSeq;       // first row of this block in (batch, heads, seq) order
        var qBlock = q.AsSpan(block * size, qSeq * size);
        var kBlock = keys.AsSpan((b * d.KvHeads + kvHead) * total * size, total * size);
        var vBlock = values.AsSpan((b * d.KvHeads + kvHead) * total * vSize, total * vSize);
        var qkBlock = qk is null ? default : qk.AsSpan(block * total, qSeq * total);

        var scores = _scores;
        SequenceNumerics.MatMulTransposedB<T>(qBlock, size, kBlock, size, scores, total, qSeq, total, size, accumulate: false);
        TensorPrimitives.Multiply(scores, _scale, scores);
        Capture(QkOutputMode.Raw, scores, qkBlock);

        if (o.Softcap > 0)
        {
            TensorPrimitives.Divide(scores, _softcap, scores);
            TensorPrimitives.Tanh(scores, scores);
            TensorPrimitives.Multiply(scores, _softcap, scores);
        }
        Capture(QkOutputMode.AfterSoftcap, scores, qkBlock);

        var masked = _masked;
        if (bias.IsActive)
        {
            bias.Fill(b, h, _bias, masked);
            TensorPrimitives.Add(scores, _bias, scores);
        }
        Capture(QkOutputMode.AfterBias, scores, qkBlock);

        SequenceNumerics.RoundTo<T>(scores, o.SoftmaxPrecision);
        for (int i = 0; i < qSeq; i++)
        {
            var row = scores.AsSpan(i * total, total);
            if (masked[i]) row.Clear();
            else Softmax(row);
        }
        SequenceNumerics.RoundTo<T>(scores, o.SoftmaxPrecision);
        Capture(QkOutputMode.AfterSoftmax, scores, qkBlock);

        SequenceNumerics.MatMulAccumulate<T>(scores, total, vBlock, vSize, y.AsSpan(block * vSize, qSeq * vSize), vSize, qSeq, vSize, total);
    }

    private void Capture(QkOutputMode stage, ReadOnlySpan<T> scores, Span<T> qkBlock)
    {
        if (o.QkMode == stage && !qkBlock.IsEmpty) scores.CopyTo(qkBlock);
    }

    private static void Softmax(Span<T> row)
    {
        if (row.IsEmpty) return;
        var max = TensorPrimitives.Max<T>(row);
        if (T.IsNegativeInfinity(max)) { row.Clear(); return; }
        TensorPrimitives.Subtract(row, max, row);
        TensorPrimitives.Exp<T>(row, row);
        TensorPrimitives.Divide(row, TensorPrimitives.Sum<T>(row), row);
    }
}
