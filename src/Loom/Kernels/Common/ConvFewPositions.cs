using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// A convolution over few output positions — the 7×7, 13×13 and 14×14 stages of classification
/// networks — computed as the transposed product Yᵀ[N × M] = im2col(X)ᵀ[N × K] · Wᵀ[K × M]: the few
/// positions then run along the MR-row side of the tiles (49 positions fill 56 rows) instead of the
/// NR-column side (64 columns, or more with the dropped columns of <see cref="ConvWideGemm"/>: 3×3 at
/// 7×7 computes 64 columns for 49 outputs), which wastes a quarter or more of the multiply-adds. The
/// im2col rows are packed as the left operand — pointwise: X read transposed; with a wide layout: from its
/// zero-bordered planes, eight positions of one output row being eight consecutive floats per tap
/// (<see cref="PlaneRows"/>) — the product goes to scratch and is transposed into Y (8×8 register
/// transposes) with the epilogue applied per output channel. Packing costs a load and a store per eight
/// positions and tap, against M/NR tile steps of the multiply, so it is cheap for M ≥ 64.
/// </summary>
internal static unsafe class ConvFewPositions
{
    /// <summary>Above this many output positions the product and its transposition outgrow L2.</summary>
    private const int MaxPositions = 256;

    /// <summary>
    /// Stride-1 kernels packed from the wide layout's planes go to 1024 positions (28×28: the product, 400 KB for 128 channels,
    /// still fits L2), where wide rows of 30 for 28 outputs drop 7% of the columns. Measured at 28×28 and 27×27, in the model:
    /// 4–5% faster for ResNet-50's 128×128 3×3 layers, 1–3% for SqueezeNet's 128×32; stride 2 (ResNet's 56 → 28) was 1% slower.
    /// The choice must not depend on the thread count: sequential and scheduled runs give the same bits only if every node
    /// takes the same path in both. Two threads, whole model (00:33, quiet): ResNet-50 42.2 ms, as before the change.
    /// </summary>
    private const int MaxPlanePositions = 1024;

    /// <summary>
    /// A pointwise layer read in place (stride 1, no padding) whose image — depth × positions floats — is at most this many bytes
    /// keeps the wide path: B's panels come straight from an image that stays in L2 across the output-channel blocks, where this
    /// path packs the transposed image and transposes the product back. ResNet-50, one thread, profile --min (2026-11-28, load
    /// 0.2–0.4): 1024×256 at 14×14 (200 KB) 0.657 → 0.612 ms; 2048×512 at 7×7 (100 KB) went 0.726 → 0.827, so it needs four NR
    /// panels of positions or more, where the wide path's rounding wastes little. LOOM_FEW_SHALLOW_BYTES overrides it (A/B; 0: off).
    /// </summary>
    internal static readonly long ShallowPointwiseBytes =
        long.TryParse(Environment.GetEnvironmentVariable("LOOM_FEW_SHALLOW_BYTES"), out long v) ? v : 384 * 1024;

    /// <summary>
    /// True when the positions fill MR-row tiles at least 10% better than the path the node would take otherwise
    /// (<paramref name="wide"/>'s columns or plain NR-column panels), for a 1×1 kernel without padding or any kernel
    /// with a wide layout whose planes the rows are packed from. Narrow layers (M below 64) keep the wide path,
    /// where packing would cost as much as it saves.
    /// </summary>
    public static bool Worth(Conv3D g, int group, int outChannels, GemmKernelSet ks, ConvWideGemm.Layout? wide)
    {
        int n = g.OutputSize;
        bool fromPlanes = wide is { NeedsCopy: true };
        if (group != 1 || n > (fromPlanes && g.SH == 1 && g.SW == 1 ? MaxPlanePositions : MaxPositions)) return false;
        if (fromPlanes ? outChannels < 64 : g.KernelSize != 1 || g.PD != 0 || g.PH != 0 || g.PW != 0) return false;
        if (!fromPlanes && wide is not null && n >= 4 * ks.NR && 4L * wide.Depth * wide.WideN <= ShallowPointwiseBytes) return false;
        long columns = GemmCore.RoundUp(wide?.WideN ?? n, ks.NR);
        // Past MaxPositions (stride-1 layers at 27×27 and 28×28) any saving wins: there the wide layout computes 7–8% dropped columns.
        if (n > MaxPositions) return GemmCore.RoundUp(n, ks.MR) < columns;
        return GemmCore.RoundUp(n, ks.MR) * 10L < columns * 9;
    }

    /// <param name="transposedWeights">Wᵀ [K × M] packed as a right operand for the kernel set.</param>
    /// <param name="wide">The node's wide layout: when it copies the image (padding, strides), rows are packed from its planes.</param>
    public static void Run(ConvProblem p, Conv3D g, GemmPackedB transposedWeights, ConvWideGemm.Layout? wide, ConvBuffers t, FusedActivation act,
        WorkerPool? pool)
    {
        bool fromPlanes = wide is { NeedsCopy: true };
        // The planes get the pre-activation while they are filled; the other paths read X as it is.
        if (!fromPlanes) t = ConvInputTransform.Materialize(t, p.Batch, p.Channels, g.InputSize, pool);
        var ks = transposedWeights.Kernels;
        int n = g.OutputSize, m = p.OutChannels, c = p.Channels, k = p.GroupDepth, threads = pool?.Threads ?? 1;
        var scratch = GemmScratch.ForThread;
        float* product = scratch.Extra(n * m);
        float* planes = fromPlanes ? scratch.Input(checked((int)(c * (long)wide!.Phases * wide.Hq * wide.Wq))) : null;
        // Past MaxPositions the split path's shared A (all positions × all taps: 3.6 MB at 28×28) would be read whole by every
        // column part; GemmCore's own partition packs A per block instead. Same tiles, same sums: the result does not depend on it.
        int columnParts = pool is null || n > MaxPositions ? 1 : ConvFewPositionsSplit.ColumnParts(ks, n, m, k, threads);
        for (int b = 0; b < p.Batch; b++)
        {
            long yOff = (long)b * m * n;
            float* x = t.X + (long)b * c * g.InputSize;
            var transpose = new TransposeJob(product, t.Y + yOff, t.Bias, t.Residual == null ? null : t.Residual + yOff, n, m, act,
                Math.Min((m + 7) / 8, threads * 2), ks.IsAvx2OrBetter && Avx.IsSupported);
            if (columnParts > 1)
            {
                RunSplit(ks, g, wide, transposedWeights, x, planes, t.Input, product, transpose, n, m, c, k, columnParts, pool!);
                continue;
            }
            if (fromPlanes)
            {
                ConvWideGemm.FillPlanes(wide!, x, planes, c, t.Input, pool);
                GemmCore.Multiply(ks, n, m, k, new PlaneRows(planes, wide!.Offsets, g.OW, wide.Wq), transposedWeights.AsOperand(), product, m, false, pool);
            }
            else if (g.IsPointwise)
                GemmCore.Multiply(ks, n, m, k, new GemmDenseA(x, n, transposed: true, 1), transposedWeights.AsOperand(), product, m, false, pool);
            else
                GemmCore.Multiply(ks, n, m, k, new Im2ColRows(new ConvIm2ColB(x, g)), transposedWeights.AsOperand(), product, m, false, pool);
            if (pool is null || transpose.Parts == 1) for (int i = 0; i < transpose.Parts; i++) transpose.Execute(i);
            else pool.Run(transpose.Parts, transpose);
        }
    }

    /// <summary>
    /// One image on several threads (<see cref="ConvFewPositionsSplit"/>): A packed once into a shared buffer — the column parts
    /// would each pack all of it otherwise — then each column part multiplies and transposes its own output channels.
    /// </summary>
    private static void RunSplit(GemmKernelSet ks, Conv3D g, ConvWideGemm.Layout? wide, GemmPackedB weights, float* x, float* planes,
        ChannelTransform input, float* product, TransposeJob transpose, int n, int m, int c, int k, int columnParts, WorkerPool pool)
    {
        int mr = ks.MR, paddedN = GemmCore.RoundUp(n, mr), threads = pool.Threads;
        float* packed = GemmScratch.ForThread.SharedA(paddedN * k);
        if (planes != null)
        {
            int parts = Math.Min(c, threads * ConvFewPositionsSplit.PartsPerThread);
            pool.Run(parts, new ConvFewPositionsSplit.PlanesAndA(wide!, x, planes, input, c, n, paddedN, k, mr, packed, parts));
        }
        else
        {
            int parts = Math.Min(k, threads * ConvFewPositionsSplit.PartsPerThread);
            if (g.IsPointwise)
                pool.Run(parts, new ConvFewPositionsSplit.PackA<GemmDenseA>(new GemmDenseA(x, n, transposed: true, 1), packed, n, paddedN, k, mr, parts));
            else
                pool.Run(parts, new ConvFewPositionsSplit.PackA<Im2ColRows>(new Im2ColRows(new ConvIm2ColB(x, g)), packed, n, paddedN, k, mr, parts));
        }
        pool.Run(columnParts, new ConvFewPositionsSplit.ProductAndY(ks, packed, paddedN, weights, product, n, m, k, transpose, columnParts));
    }

    /// <summary>
    /// im2col(X)ᵀ read from a wide layout's planes: row (output position) oy·OW + ox, column (tap) p is
    /// planes[offsets[p] + oy·Wq + ox]. A panel of eight positions on one output row copies eight consecutive floats
    /// per tap; one that wraps to the next row gathers them.
    /// </summary>
    internal readonly struct PlaneRows(float* planes, int* offsets, int ow, int wq) : IGemmA
    {
        public float* Packed(int i0, int k0, int kc) => null;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Pack(float* dest, int i0, int mc, int k0, int kc, int mr)
        {
            int* at = stackalloc int[mr];
            int* offs = offsets + k0;
            for (int r0 = 0; r0 < mc; r0 += mr, dest += kc * mr)
            {
                int rows = Math.Min(mr, mc - r0);
                for (int r = 0; r < rows; r++)
                {
                    int pos = i0 + r0 + r, oy = pos / ow;
                    at[r] = oy * wq + pos - oy * ow;
                }
                if (mr == 8 && rows == 8 && Avx2.IsSupported)
                {
                    float* src = planes + at[0];
                    int d = at[7] - at[0] - 7;
                    if (d == 0)
                        for (int q = 0; q < kc; q++) Vector256.Store(Vector256.Load(src + offs[q]), dest + q * 8);
                    else if (OneBreak(at, d, out int split))
                    {
                        // Eight positions over two output rows: the first from one plane row, the rest d floats further on (the
                        // next row, past its border columns): two loads and a blend instead of a gather.
                        var upper = Vector256.GreaterThanOrEqual(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(split)).AsSingle();
                        for (int q = 0; q < kc; q++)
                        {
                            float* s0 = src + offs[q];
                            Vector256.Store(Vector256.ConditionalSelect(upper, Vector256.Load(s0 + d), Vector256.Load(s0)), dest + q * 8);
                        }
                    }
                    else
                    {
                        var index = Vector256.Load(at) - Vector256.Create(at[0]);
                        for (int q = 0; q < kc; q++) Vector256.Store(Avx2.GatherVector256(src + offs[q], index, 4), dest + q * 8);
                    }
                    continue;
                }
                for (int q = 0; q < kc; q++)
                {
                    float* src = planes + offs[q], d = dest + q * mr;
                    int r = 0;
                    for (; r < rows; r++) d[r] = src[at[r]];
                    for (; r < mr; r++) d[r] = 0;
                }
            }
        }
    }

    /// <summary>
    /// True when eight packed positions are consecutive floats but for one jump of <paramref name="d"/> &gt; 0 (an output row's end)
    /// before position <paramref name="split"/>.
    /// </summary>
    private static bool OneBreak(int* at, int d, out int split)
    {
        split = 1;
        while (split < 8 && at[split] - at[0] == split) split++;
        if (d <= 0 || split == 8) return false;
        for (int r = split; r < 8; r++)
            if (at[r] - at[0] != r + d) return false;
        return true;
    }

    /// <summary>im2col(X)ᵀ as a left operand: its MR-row panels are im2col's NR-column panels with NR = MR.</summary>
    internal readonly struct Im2ColRows(ConvIm2ColB columns) : IGemmA
    {
        public float* Packed(int i0, int k0, int kc) => null;

        public void Pack(float* dest, int i0, int mc, int k0, int kc, int mr) => columns.Pack(dest, k0, kc, i0, mc, mr);
    }

    /// <summary>y[ch, pos] = act(product[pos, ch] + bias[ch] + residual[ch, pos]) for channel blocks of eight.</summary>
    internal readonly struct TransposeJob(float* product, float* y, float* bias, float* residual, int n, int m, FusedActivation act, int parts, bool avx)
        : IParallelJob
    {
        public int Parts => parts;

        public void Execute(int part)
        {
            int blocks = (m + 7) / 8;
            Channels((int)((long)blocks * part / parts) * 8, Math.Min(m, (int)((long)blocks * (part + 1) / parts) * 8));
        }

        /// <summary>Output channels [m0, m1).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Channels(int m0, int m1)
        {
            for (int ch = m0; ch < m1; ch += 8)
            {
                // Whole 8×8 blocks by register transposes, the rest (last positions, last channels) one by one.
                int done = 0;
                if (avx && ch + 8 <= m1)
                    for (; done + 8 <= n; done += 8) GemmTranspose.Block8x8(product + (long)done * m + ch, m, y + (long)ch * n + done, n);
                for (int q = ch; q < Math.Min(ch + 8, m1); q++)
                    for (int r = done; r < n; r++) y[(long)q * n + r] = product[(long)r * m + q];
            }
            if (bias == null && residual == null && act.Kind == ActivationKind.None) return;
            for (int ch = m0; ch < m1; ch++)
                act.ApplyRow(y + (long)ch * n, n, bias == null ? 0 : bias[ch], residual == null ? null : residual + (long)ch * n);
        }
    }
}
