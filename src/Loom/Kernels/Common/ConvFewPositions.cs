using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// A 1×1 convolution over few output positions — the 7×7, 13×13 and 14×14 stages of classification
/// networks — computed as the transposed product Yᵀ[N × M] = im2col(X)ᵀ[N × K] · Wᵀ[K × M]: the few
/// positions then run along the MR-row side of the tiles (49 positions fill 56 rows) instead of the
/// NR-column side (64 columns, or more with the dropped columns of <see cref="ConvWideGemm"/>), which
/// wastes a quarter or more of the multiply-adds. The im2col rows are packed as the left operand
/// (pointwise: X read transposed), the product goes to scratch and is transposed into Y (8×8 register
/// transposes) with the epilogue applied per output channel.
/// </summary>
internal static unsafe class ConvFewPositions
{
    /// <summary>
    /// True for a 1×1 kernel (any stride) whose positions fill MR-row tiles at least 10% better than the path
    /// the node would take otherwise (<paramref name="wide"/>'s columns or plain NR-column panels). Larger kernels
    /// measured faster read straight from the image (<see cref="ConvWideGemm"/>) than with im2col packed here.
    /// </summary>
    public static bool Worth(Conv3D g, int group, GemmKernelSet ks, ConvWideGemm.Layout? wide)
    {
        int n = g.OutputSize;
        if (group != 1 || n > 256 || g.KernelSize != 1 || g.PD != 0 || g.PH != 0 || g.PW != 0) return false;
        long columns = GemmCore.RoundUp(wide?.WideN ?? n, ks.NR);
        return GemmCore.RoundUp(n, ks.MR) * 10L < columns * 9;
    }

    /// <param name="transposedWeights">Wᵀ [K × M] packed as a right operand for the kernel set.</param>
    public static void Run(ConvProblem p, Conv3D g, GemmPackedB transposedWeights, ConvBuffers t, FusedActivation act, WorkerPool? pool)
    {
        t = ConvInputTransform.Materialize(t, p.Batch, p.Channels, g.InputSize, pool);
        var ks = transposedWeights.Kernels;
        int n = g.OutputSize, m = p.OutChannels, c = p.Channels, k = p.GroupDepth, threads = pool?.Threads ?? 1;
        float* product = GemmScratch.ForThread.Extra(n * m);
        for (int b = 0; b < p.Batch; b++)
        {
            long yOff = (long)b * m * n;
            float* x = t.X + (long)b * c * g.InputSize;
            if (g.IsPointwise)
                GemmCore.Multiply(ks, n, m, k, new GemmDenseA(x, n, transposed: true, 1), transposedWeights.AsOperand(), product, m, false, pool);
            else
                GemmCore.Multiply(ks, n, m, k, new Im2ColRows(new ConvIm2ColB(x, g)), transposedWeights.AsOperand(), product, m, false, pool);
            int blocks = (m + 7) / 8, parts = Math.Min(blocks, threads * 2);
            var job = new TransposeJob(product, t.Y + yOff, t.Bias, t.Residual == null ? null : t.Residual + yOff, n, m, act, parts,
                ks.IsAvx2OrBetter && Avx.IsSupported);
            if (pool is null || parts == 1) for (int i = 0; i < parts; i++) job.Execute(i);
            else pool.Run(parts, job);
        }
    }

    /// <summary>im2col(X)ᵀ as a left operand: its MR-row panels are im2col's NR-column panels with NR = MR.</summary>
    private readonly struct Im2ColRows(ConvIm2ColB columns) : IGemmA
    {
        public float* Packed(int i0, int k0, int kc) => null;

        public void Pack(float* dest, int i0, int mc, int k0, int kc, int mr) => columns.Pack(dest, k0, kc, i0, mc, mr);
    }

    /// <summary>y[ch, pos] = act(product[pos, ch] + bias[ch] + residual[ch, pos]) for channel blocks of eight.</summary>
    private readonly struct TransposeJob(float* product, float* y, float* bias, float* residual, int n, int m, FusedActivation act, int parts, bool avx)
        : IParallelJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int part)
        {
            int blocks = (m + 7) / 8;
            int m0 = (int)((long)blocks * part / parts) * 8, m1 = Math.Min(m, (int)((long)blocks * (part + 1) / parts) * 8);
            for (int ch = m0; ch < m1; ch += 8)
            {
                // Whole 8×8 blocks by register transposes, the rest (last positions, last channels) one by one.
                int done = 0;
                if (avx && ch + 8 <= m)
                    for (; done + 8 <= n; done += 8) GemmTranspose.Block8x8(product + (long)done * m + ch, m, y + (long)ch * n + done, n);
                for (int q = ch; q < Math.Min(ch + 8, m); q++)
                    for (int r = done; r < n; r++) y[(long)q * n + r] = product[(long)r * m + q];
            }
            if (bias == null && residual == null && act.Kind == ActivationKind.None) return;
            for (int ch = m0; ch < m1; ch++)
                act.ApplyRow(y + (long)ch * n, n, bias == null ? 0 : bias[ch], residual == null ? null : residual + (long)ch * n);
        }
    }
}
