using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// <see cref="ConvWinograd{T}"/> with threads, for planes whose V is small enough to keep whole (<see cref="ConvWinogradSplit"/>):
/// planes and V by channel groups, then products and output by (output rows × tile columns). Same bits as the tile blocks.
/// </summary>
internal static unsafe class ConvWinogradWhole<T> where T : struct, IWinogradTiles
{
    private static int F => (T.Tile + 2) * (T.Tile + 2);

    public static void Run(ConvProblem p, Conv3D g, ConvWinogradWeights<T> w, ConvBuffers t, FusedActivation act, WorkerPool? pool,
        in ConvWinogradLayout l, bool? transposed = null)
    {
        var ks = w.Kernels;
        int c = p.Channels, k = p.OutChannels, paddedT = l.PaddedT(l.Tiles);
        if (transposed ?? ConvWinogradTransposed.Worth(ks, l.Tiles, c, k))
        {
            RunTransposed(p, g, w, t, act, pool);
            return;
        }
        var split = new ConvWinogradSplit(F, c, k, paddedT, ks.MR, ks.NR, pool?.Threads ?? 1);
        long vStride = (long)c * paddedT + 16;
        var scratch = GemmScratch.ForThread;
        float* planes = scratch.Extra(checked(c * l.PlaneSize));
        float* v = scratch.WinogradInput(checked((int)(F * vStride)));
        for (int n = 0; n < p.Batch; n++)
        {
            long yOff = (long)n * k * g.OutputSize;
            var input = new InputJob(t.X + (long)n * c * g.InputSize, planes, v, vStride, g, l, c, paddedT, t.Input, split);
            WorkerPool.Split(pool, split.ChannelParts, input);
            var job = new ProductJob(l, w, v, vStride, paddedT, t.Y + yOff, t.Bias, t.Residual == null ? null : t.Residual + yOff, act, split);
            WorkerPool.Split(pool, split.Parts, job);
        }
    }

    /// <summary>The same with the tiles as GEMM rows (<see cref="ConvWinogradTransposed"/>): V in panels of MR tiles.</summary>
    private static void RunTransposed(ConvProblem p, Conv3D g, ConvWinogradWeights<T> w, ConvBuffers t, FusedActivation act, WorkerPool? pool)
    {
        var ks = w.Kernels;
        int c = p.Channels, k = p.OutChannels;
        var l = ConvWinogradLayout.For<T>(g, c, k, ks.MR);
        int paddedT = l.PaddedT(l.Tiles);
        var inputSplit = new ConvWinogradSplit(F, c, k, paddedT, ks.MR, ks.MR, pool?.Threads ?? 1);
        var split = new ConvWinogradTransposed(F, l.Tiles, k, ks.MR, ks.NR, pool?.Threads ?? 1);
        long vStride = (long)c * paddedT + 16;
        var scratch = GemmScratch.ForThread;
        float* planes = scratch.Extra(checked(c * l.PlaneSize));
        float* v = scratch.WinogradInput(checked((int)(F * vStride)));
        var ut = w.Transposed;
        for (int n = 0; n < p.Batch; n++)
        {
            long yOff = (long)n * k * g.OutputSize;
            var input = new InputJob(t.X + (long)n * c * g.InputSize, planes, v, vStride, g, l, c, paddedT, t.Input, inputSplit);
            WorkerPool.Split(pool, inputSplit.ChannelParts, input);
            var job = new TransposedJob(l, w, ut, v, vStride, paddedT, t.Y + yOff, t.Bias, t.Residual == null ? null : t.Residual + yOff, act, split);
            WorkerPool.Split(pool, split.Parts, job);
        }
    }

    /// <summary>Part = group of channels: their zero-bordered planes (with the input's pre-activation), then their V for every tile.</summary>
    private readonly struct InputJob(float* x, float* planes, float* v, long vStride, Conv3D g, ConvWinogradLayout l, int channels, int paddedT,
        ChannelTransform input, ConvWinogradSplit split) : IParallelJob
    {
        public void Execute(int part)
        {
            split.Channels(part, channels, out int c0, out int c1);
            bool transform = !input.IsIdentity;
            for (int c = c0; c < c1; c++)
                ConvPaddedPlane.Fill(x + (long)c * g.InputSize, g, planes + (long)c * l.PlaneSize, 0, l.Hp, l.Wp, 0,
                    transform, transform ? input.Scale(c) : 1, transform ? input.Shift(c) : 0, input.Relu);
            ConvWinogradSplit.ClearPadding(v, vStride, F, channels, c0, c1, l.Tiles, paddedT, l.Nr);
            float* scratch = GemmScratch.ForThread.WinogradProducts(T.InputScratch(l) + 16);
            T.Input(l, planes, channels, c0, c1, 0, l.Tiles, v, vStride, l.Nr, scratch);
        }
    }

    /// <summary>Part = (tiles, output channels): F products with the tiles as rows, transposed back, then the output transform.</summary>
    private readonly struct TransposedJob(ConvWinogradLayout l, ConvWinogradWeights<T> w, GemmPackedB[] ut, float* v, long vStride, int paddedT, float* y,
        float* bias, float* residual, FusedActivation act, ConvWinogradTransposed split) : IParallelJob
    {
        public void Execute(int part)
        {
            split.Range(part, l.Tiles, w.OutChannels, out int t0, out int t1, out int k0, out int k1);
            long mStride = split.MStride;
            int rows = l.OutputRows * l.RowScratch;
            float* m = GemmScratch.ForThread.WinogradProducts(checked((int)(F * mStride + split.TransposedFloats + rows + 32)));
            float* mt = m + F * mStride + rows + 16;
            ConvWinogradTransposed.Products(w.Kernels, F, w.Channels, v, vStride, paddedT, ut, t0, t1, k0, k1, mt, m, mStride, out int ldm);
            ConvWinogradOutput.Rows<T>(l, m - (long)k0 * ldm, mStride, ldm, k0, k1, t0, t1, y, bias, residual, act, m + F * mStride + 8);
        }
    }

    /// <summary>Part = (output rows, tile columns): F products over all input channels, then the output transform.</summary>
    private readonly struct ProductJob(ConvWinogradLayout l, ConvWinogradWeights<T> w, float* v, long vStride, int paddedT, float* y, float* bias,
        float* residual, FusedActivation act, ConvWinogradSplit split) : IParallelJob
    {
        public void Execute(int part)
        {
            var ks = w.Kernels;
            int c = w.Channels;
            split.Range(part, w.OutChannels, out int k0, out int k1, out int j0, out int j1);
            int cols = j1 - j0;
            long mStride = split.MStride;
            float* m = GemmScratch.ForThread.WinogradProducts(checked((int)(F * mStride + l.OutputRows * l.RowScratch + 16)));
            // M_ξ holds rows [k0, k1) × columns [j0, j1); GEMM and the output transform address it from C[0, 0].
            float* origin = m - (long)k0 * cols;
            for (int xi = 0; xi < F; xi++)
                GemmCore.MultiplyBlock(ks, k0, k1, j0, j1, c, w.Packed[xi].AsOperand(), new GemmPackedB.Ref(v + xi * vStride, paddedT),
                    origin - j0 + xi * mStride, cols, false, default(GemmNoEpilogue));
            ConvWinogradOutput.Rows<T>(l, origin, mStride, cols, k0, k1, j0, Math.Min(l.Tiles, j1), y, bias, residual, act, m + F * mStride + 8);
        }
    }
}
