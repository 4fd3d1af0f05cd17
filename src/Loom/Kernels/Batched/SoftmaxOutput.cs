using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Batched;

/// <summary>
/// A bias-free 5-class output layer with its log-softmax loss, per row: <c>z = W h</c>, loss = logΣexp(z) − z[label],
/// and its gradient. Five 16-lane accumulators take the five dot products in one pass over h (the per-node loss
/// is called for every labelled node, so a library call per class would cost more than the arithmetic).
/// </summary>
internal static unsafe class SoftmaxOutput
{
    public const int Classes = 5;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Logits(int hd, float* w, float* h, float* z)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default;
        int k = 0;
        for (; k + 16 <= hd; k += 16)
        {
            var x = Vector512.Load(h + k);
            a0 += Vector512.Load(w + k) * x;
            a1 += Vector512.Load(w + hd + k) * x;
            a2 += Vector512.Load(w + 2 * hd + k) * x;
            a3 += Vector512.Load(w + 3 * hd + k) * x;
            a4 += Vector512.Load(w + 4 * hd + k) * x;
        }
        float s0 = Vector512.Sum(a0), s1 = Vector512.Sum(a1), s2 = Vector512.Sum(a2), s3 = Vector512.Sum(a3), s4 = Vector512.Sum(a4);
        for (; k < hd; k++)
        {
            float x = h[k];
            s0 += w[k] * x; s1 += w[hd + k] * x; s2 += w[2 * hd + k] * x; s3 += w[3 * hd + k] * x; s4 += w[4 * hd + k] * x;
        }
        z[0] = s0; z[1] = s1; z[2] = s2; z[3] = s3; z[4] = s4;
    }

    /// <summary>−log softmax(W h)[label].</summary>
    public static float Loss(int hd, float* w, float* h, int label)
    {
        float* z = stackalloc float[Classes];
        Logits(hd, w, h, z);
        return LogSumExp(z) - z[label];
    }

    /// <summary>Adds the loss's gradient: <c>dh += Wᵀ d</c> and <c>dW += d hᵀ</c> with <c>d = softmax(z) − onehot(label)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gradient(int hd, float* w, float* h, int label, float* dh, float* dw)
    {
        float* z = stackalloc float[Classes];
        Logits(hd, w, h, z);
        float lse = LogSumExp(z);
        float d0 = MathF.Exp(z[0] - lse) - (label == 0 ? 1 : 0), d1 = MathF.Exp(z[1] - lse) - (label == 1 ? 1 : 0);
        float d2 = MathF.Exp(z[2] - lse) - (label == 2 ? 1 : 0), d3 = MathF.Exp(z[3] - lse) - (label == 3 ? 1 : 0);
        float d4 = MathF.Exp(z[4] - lse) - (label == 4 ? 1 : 0);
        int k = 0;
        for (; k + 16 <= hd; k += 16)
        {
            var x = Vector512.Load(h + k);
            var g = Vector512.Load(dh + k)
                    + Vector512.Load(w + k) * d0 + Vector512.Load(w + hd + k) * d1 + Vector512.Load(w + 2 * hd + k) * d2
                    + Vector512.Load(w + 3 * hd + k) * d3 + Vector512.Load(w + 4 * hd + k) * d4;
            g.Store(dh + k);
            (Vector512.Load(dw + k) + x * d0).Store(dw + k);
            (Vector512.Load(dw + hd + k) + x * d1).Store(dw + hd + k);
            (Vector512.Load(dw + 2 * hd + k) + x * d2).Store(dw + 2 * hd + k);
            (Vector512.Load(dw + 3 * hd + k) + x * d3).Store(dw + 3 * hd + k);
            (Vector512.Load(dw + 4 * hd + k) + x * d4).Store(dw + 4 * hd + k);
        }
        for (; k < hd; k++)
        {
            float x = h[k];
            dh[k] += w[k] * d0 + w[hd + k] * d1 + w[2 * hd + k] * d2 + w[3 * hd + k] * d3 + w[4 * hd + k] * d4;
            dw[k] += x * d0; dw[hd + k] += x * d1; dw[2 * hd + k] += x * d2; dw[3 * hd + k] += x * d3; dw[4 * hd + k] += x * d4;
        }
    }

    private static float LogSumExp(float* z)
    {
        float max = MathF.Max(MathF.Max(MathF.Max(z[0], z[1]), MathF.Max(z[2], z[3])), z[4]);
        double sum = 0;
        for (int r = 0; r < Classes; r++) sum += Math.Exp(z[r] - max);
        return (float)(Math.Log(sum) + max);
    }
}
