using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// Convolution as a GEMM that reads B straight from the image, with no im2col packing. The image is
/// copied once into zero-bordered planes — for stride s, split into s_h·s_w phase planes (rows ≡ p_y,
/// columns ≡ p_x mod the stride), so every tap becomes a stride-1 read of one phase plane. Then for the
/// "wide" output position j = oy·Wq + ox (ox running over the whole plane width Wq), tap k = (c, ky, kx)
/// reads plane[offset[k] + j], contiguous in j, and the offset micro-kernels (<see cref="GemmOffsetKernels"/>)
/// load B rows directly. The Wq − OW columns past each output row are computed and dropped when the tile
/// is scattered to Y with the epilogue. Packing B costs about a cycle per element, as much as the multiply
/// itself for narrow layers (M = 32-64), so this wins wherever the dropped columns are fewer.
/// </summary>
internal static unsafe class ConvWideGemm
{
    /// <summary>
    /// 2-D (or 1-D) convolution with a kernel set that has an offset micro-kernel: of one group, or 1×1 groups deeper than
    /// <see cref="ConvPointwiseNarrow"/> takes (ShuffleNet's), each group a product of its own that reads its channels of the image.
    /// </summary>
    public static bool Supports(Conv3D g, int group, int groupDepth, GemmKernelSet ks) =>
        (group == 1 || Grouped(g.KernelSize, groupDepth) && g.OutputSize >= MinGroupedPanels * ks.NR) && g.KD == 1 && g.ID == 1 && ks.OffsetKernel != null;

    /// <summary>
    /// Groups of a 1×1 convolution this many channels deep may read B from the image as one group does: packed per group for the
    /// GEMM path instead, their B panels cost a copy of the image each run (ShuffleNet's 4 groups of 34–136 channels). At most
    /// <see cref="GemmCore.KC"/> deep, so the groups' full-depth panels serve the GEMM path too (one block, the same layout).
    /// </summary>
    public static bool Grouped(int kernelSize, int groupDepth) => kernelSize == 1 && groupDepth is > ConvPointwiseNarrow.MaxDepth and <= GemmCore.KC;

    /// <summary>
    /// Grouped layers read B from the image only over this many NR-column panels or more. ShuffleNet's groups, one thread, in the
    /// model (docs/stream.md, shuf2): 272×68 at 14×14 4% faster, 136×34 at 28×28 9%, 136×34 at 14×14 22%, 112×28 at 28×28 26%; at
    /// 7×7 (49 positions, two panels) the 136-channel groups' unaligned B rows (planes 196 bytes apart) cost more than the copy
    /// they save: 544×136 18% slower.
    /// </summary>
    private const int MinGroupedPanels = 4;

    /// <summary>The phase planes' size and the tap offsets for one geometry (cached with the node's plan).</summary>
    public sealed class Layout
    {
        private readonly int[] _offsets, _packedOffsets;

        public Layout(Conv3D g, int channels, int nr)
        {
            Geometry = g;
            Hq = g.OH + (g.KH - 1) * g.LH / g.SH;
            Wq = g.OW + (g.KW - 1) * g.LW / g.SW;
            // Only the phases some tap reads get a plane: a strided 1×1 kernel reads phase (0, 0) alone, the subsampled image.
            PhaseRows = Math.Min(g.SH, (g.KH - 1) * g.LH + 1);
            PhaseCols = Math.Min(g.SW, (g.KW - 1) * g.LW + 1);
            Phases = PhaseRows * PhaseCols;
            WideN = (g.OH - 1) * Wq + g.OW;
            // With stride 1 and no padding the plane is the image itself (pointwise and "valid" convolutions).
            NeedsCopy = Phases != 1 || g.PH != 0 || g.PW != 0 || Hq != g.IH || Wq != g.IW;
            int depth = channels * g.KH * g.KW;
            Depth = depth;
            _offsets = GC.AllocateArray<int>(Math.Max(depth, 1), pinned: true);
            _packedOffsets = GC.AllocateArray<int>(Math.Max(depth, 1), pinned: true);
            long plane = (long)Hq * Wq;
            int k = 0;
            for (int c = 0; c < channels; c++)
                for (int ky = 0; ky < g.KH; ky++)
                    for (int kx = 0; kx < g.KW; kx++, k++)
                    {
                        int dy = ky * g.LH, dx = kx * g.LW;
                        int phase = dy % g.SH * PhaseCols + dx % g.SW;
                        _offsets[k] = checked((int)((c * Phases + phase) * plane + dy / g.SH * Wq + dx / g.SW));
                        _packedOffsets[k] = k * nr;
                    }
        }

        public Conv3D Geometry { get; }

        /// <summary>Rows and width of one phase plane; planes are ordered (channel, phase row, phase column).</summary>
        public int Hq { get; }
        public int Wq { get; }
        public int Phases { get; }
        public int PhaseRows { get; }
        public int PhaseCols { get; }

        /// <summary>Wide output columns that cover every real output (the last row's tail is left out).</summary>
        public int WideN { get; }

        public bool NeedsCopy { get; }

        /// <summary>Taps of the GEMM: channels × KH × KW.</summary>
        public int Depth { get; }

        /// <summary>The tap offsets into the planes, pinned for the life of the layout.</summary>
        public int* Offsets => (int*)Unsafe.AsPointer(ref _offsets[0]);

        /// <summary>Offsets p·NR: B rows of a panel packed the usual way (the last, partial panel).</summary>
        public int* PackedOffsets => (int*)Unsafe.AsPointer(ref _packedOffsets[0]);

        /// <summary>
        /// Writes channel <paramref name="c"/>'s phase planes: plane (py, px)[r, q] = f(x[r·SH + py − PH, q·SW + px − PW]), 0 outside,
        /// f the channel's pre-activation (<paramref name="input"/>) or the identity.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Fill(float* x, float* planes, ChannelTransform input, int c) => Fill(x, planes, input, c, 0, Hq);

        /// <summary>Rows [<paramref name="r0"/>, <paramref name="r1"/>) of each of channel <paramref name="c"/>'s phase planes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Fill(float* x, float* planes, ChannelTransform input, int c, int r0, int r1)
        {
            var g = Geometry;
            bool transform = !input.IsIdentity;
            float scale = transform ? input.Scale(c) : 1, shift = transform ? input.Shift(c) : 0;
            if (g.SH == 1 && g.SW == 1)
            {
                ConvPaddedPlane.Fill(x, g, planes, r0, r1, Wq, 0, transform, scale, shift, input.Relu);
                return;
            }
            for (int py = 0; py < PhaseRows; py++)
                for (int px = 0; px < PhaseCols; px++, planes += (long)Hq * Wq)
                    for (int r = r0; r < r1; r++)
                    {
                        float* dst = planes + (long)r * Wq;
                        int iy = r * g.SH + py - g.PH;
                        if ((uint)iy >= (uint)g.IH)
                        {
                            new Span<float>(dst, Wq).Clear();
                            continue;
                        }
                        // Columns q read ix = q·SW + px − PW: zeros before and after the valid range [lo, hi).
                        float* src = x + (long)iy * g.IW + px - g.PW;
                        int first = g.PW - px, lo = Math.Clamp(first <= 0 ? 0 : (first + g.SW - 1) / g.SW, 0, Wq);
                        int end = g.IW + g.PW - px, hi = Math.Clamp(end <= 0 ? 0 : (end + g.SW - 1) / g.SW, lo, Wq);
                        int q = 0;
                        for (; q < lo; q++) dst[q] = 0;
                        if (g.SW == 2 && Avx2.IsSupported)
                            // The second load of eight reads one element past the last one used: stop while it is in the row.
                            for (; q + 8 <= hi && 2 * q + 16 <= end; q += 8)
                                Vector256.Store(ConvPaddedPlane.Even(Vector256.Load(src + 2 * q), Vector256.Load(src + 2 * q + 8)), dst + q);
                        for (; q < hi; q++) dst[q] = src[q * g.SW];
                        for (; q < Wq; q++) dst[q] = 0;
                        if (transform) ConvPaddedPlane.Copy(dst + lo, dst + lo, hi - lo, scale, shift, input.Relu);
                    }
        }
    }

    /// <summary>
    /// Y = act(conv(X, W) + bias + residual) for every image; <paramref name="packed"/> holds each group's W with full-depth
    /// panels (one for a convolution of one group).
    /// </summary>
    public static void Run(ConvProblem p, Conv3D g, Layout layout, GemmPackedA[] packed, ConvBuffers t, FusedActivation act, WorkerPool? pool)
    {
        // Without a copy of its own (pointwise, no padding) the image gets its pre-activation applied first.
        if (!layout.NeedsCopy) t = ConvInputTransform.Materialize(t, p.Batch, p.Channels, g.InputSize, pool);
        var ks = packed[0].Kernels;
        int c = p.Channels, m = p.OutChannels, groups = p.Group, k = p.GroupDepth, threads = pool?.Threads ?? 1;
        long channelSize = (long)layout.Phases * layout.Hq * layout.Wq;
        float* planes = layout.NeedsCopy ? GemmScratch.ForThread.Extra(checked((int)(c * channelSize))) : null;
        // Enough groups for every thread: one part each, as ConvFloat's group GEMMs; else each group's product splits itself.
        int nr = Wide48(ks, g, layout, act) ? GemmOffsetKernels48.NR : ks.NR;
        var plan = GemmPartition.Plan(ks.MR, nr, p.OutChannelsPerGroup, layout.WideN, k, groups >= 2 * threads ? 1 : threads, aPacked: true, bPacked: true);
        for (int n = 0; n < p.Batch; n++)
        {
            long yOff = (long)n * m * g.OutputSize;
            float* x = t.X + (long)n * c * g.InputSize;
            if (layout.NeedsCopy)
            {
                FillPlanes(layout, x, planes, c, t.Input, pool);
                x = planes;
            }
            var job = new Job(plan, g, layout, packed, x, t.Y + yOff, t.Bias, t.Residual == null ? null : t.Residual + yOff, p.OutChannelsPerGroup, k, act,
                Interlocked.Add(ref s_jobs, groups), p.ChannelsPerGroup * channelSize);
            WorkerPool.Split(pool, groups * plan.Parts, job);
        }
    }

    /// <summary>Tests (and A/B runs, <c>LOOM_WIDE48=0</c>): false keeps pointwise layers on the 8×32 tile (same bits).</summary>
    internal static bool s_wide48 = Environment.GetEnvironmentVariable("LOOM_WIDE48") != "0";

    /// <summary>
    /// Pointwise layers with AVX-512 and at least two 48-column panels take the 8×48 tile (<see cref="GemmOffsetKernels48"/>). Their
    /// last, partial panel goes to <see cref="ConvWideColumnTail"/>, whatever its width (1–47 columns), and with no padding their
    /// tiles are consecutive outputs (Wq = OW), stored straight into Y. Only with an activation the tile applies itself: Sigmoid
    /// and Tanh are applied to the stored rows afterwards, whose vector and scalar parts differ in the last bit, and the 48-column
    /// panels would move outputs between those parts (not the same bits as the 8×32 tile).
    /// </summary>
    private static bool Wide48(GemmKernelSet ks, Conv3D g, Layout layout, FusedActivation act)
    {
        GemmTileEpilogue probe = default;
        return s_wide48 && s_columnTail && g.KernelSize == 1 && ConvWideColumnTail.Supports(ks) && layout.Wq == g.OW
            && layout.WideN >= 2 * GemmOffsetKernels48.NR && act.ToTile(ref probe);
    }

    /// <summary>Copies one image's <paramref name="channels"/> into the layout's phase planes, with the pre-activation, split over the pool.</summary>
    public static void FillPlanes(Layout layout, float* x, float* planes, int channels, ChannelTransform input, WorkerPool? pool)
    {
        // Bands of plane rows across every channel: the product splits the output positions over the threads, and so did the
        // layer before, so each thread copies the rows its own core wrote and its product part reads the rows it copied.
        var fill = new FillJob(x, planes, layout, channels, Math.Min(layout.Hq, (pool?.Threads ?? 1) * 2), input);
        WorkerPool.Split(pool, fill.Parts, fill);
    }

    private readonly struct FillJob(float* x, float* planes, Layout layout, int channels, int parts, ChannelTransform input) : IParallelJob
    {
        public int Parts => parts;

        public void Execute(int part)
        {
            int r0 = (int)((long)layout.Hq * part / parts), r1 = (int)((long)layout.Hq * (part + 1) / parts);
            long channelSize = (long)layout.Phases * layout.Hq * layout.Wq;
            for (int c = 0; c < channels; c++)
                layout.Fill(x + (long)c * layout.Geometry.InputSize, planes + c * channelSize, input, c, r0, r1);
        }
    }

    /// <summary>Numbers the products run, so a thread packs a job's last panel once however many of its parts it computes.</summary>
    private static long s_jobs;

    /// <summary>Tests only: false sends the tiles across a row end through the scalar <c>Scatter</c>, as before <see cref="ConvWideSplitTile"/> (same bits).</summary>
    internal static bool s_splitStore = true;

    /// <summary>Tests only: false computes the last, partial column panel with the 8×32 (or 8×16) tile, as before <see cref="ConvWideColumnTail"/> (same bits).</summary>
    internal static bool s_columnTail = true;

    /// <summary>Tests only: tail blocks computed by <see cref="ConvWideColumnTail"/> on this thread.</summary>
    [ThreadStatic] internal static int s_columnTailRuns;

    /// <summary>Tests only: parts computed with the 8×48 tile on this thread.</summary>
    [ThreadStatic] internal static int s_wide48Runs;

    /// <summary>Tests only: false runs deep products over large planes without <see cref="PrefetchTaps"/> (same bits).</summary>
    internal static bool s_prefetchTaps = true;

    /// <param name="m">Output channels per group.</param>
    /// <param name="lastId">The job's id, unique per group: <paramref name="lastId"/> − the group's index.</param>
    /// <param name="groupStride">Floats from one group's first channel (or its planes) to the next group's.</param>
    private readonly struct Job(GemmPartition plan, Conv3D g, Layout layout, GemmPackedA[] packedGroups, float* x, float* y, float* bias,
        float* residual, int m, int k, FusedActivation act, long lastId, long groupStride) : IParallelJob
    {
        /// <summary>Panels per block: the block's slice of the image stays in L2 while every row tile passes over it.</summary>
        private const int PanelsPerBlock = 8;

        /// <summary>
        /// The 8×48 tile's column blocks hold at most this much of the image (fewer panels for layers deeper than 341 channels), so
        /// that the block stays in L2 beside the weights streaming through. 256 KiB measured alike (in the noise of the host).
        /// </summary>
        private const long Wide48BlockBytes = 512 << 10;

        /// <summary>
        /// Depths whose k loop is too short for a tile's own output lines to arrive (<see cref="GemmKernelSet.ShortDepthOffsetKernel"/>):
        /// stems (27, 147 steps) and 3×3 layers of 16 channels (144; SqueezeNet's 55×55 expands 1–3% faster). Pointwise layers keep
        /// their own kernel (next-tile prefetching made ResNet's 64×64 1×1 layer 12% slower).
        /// </summary>
        private const int ShortDepth = 160;

        /// <summary>
        /// Pointwise weights larger than this come from L3 or memory on every run (a model's other layers evict them between
        /// runs): the kernel prefetches the next row tile's panel while it works on this one. SqueezeNet's classifier (1000×512,
        /// 2 MiB) in the model, one thread: 1.74–1.78 → 1.62–1.65 ms; its 64×384–64×512 layers at 13×13 (96–128 KiB) 1–3% faster.
        /// </summary>
        private const long LargeWeightBytes = 32 << 10;

        /// <summary>
        /// Pointwise images up to this size stay in L2 across the row tiles: their kernel does not prefetch each B row's next
        /// panel (SqueezeNet's 13×13 × 512: classifier alone 1.10 → 0.98 ms on the Zen 5 host). Measured only there.
        /// </summary>
        private const long SmallImageBytes = 384 << 10;

        /// <summary>
        /// Planes (or an image) larger than this do not stay in L2 (1 MB on Zen 4 and 5) across a column block's row tiles: deep kernels
        /// prefetch their B rows ahead (<see cref="PrefetchTaps"/>). Measured on ResNet-50's 56 → 28 3×3 (1.7 MB) only; its 28 → 14
        /// and 14 → 7 layers (0.9 and 0.5 MB) take the few-positions path.
        /// </summary>
        private const long LargeImageBytes = 1 << 20;

        /// <summary>Part <paramref name="part"/> % plan.Parts of group <paramref name="part"/> / plan.Parts (its pointers offset to the group's).</summary>
        public void Execute(int part)
        {
            int gi = part / plan.Parts;
            long yOff = (long)gi * m * g.OutputSize;
            new Job(plan, g, layout, packedGroups, x + gi * groupStride, y + yOff, bias == null ? null : bias + gi * m,
                residual == null ? null : residual + yOff, m, k, act, lastId - gi, groupStride).Group(packedGroups[gi], part - gi * plan.Parts);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Group(GemmPackedA packed, int part)
        {
            long id = lastId;
            var (i0, i1, j0, j1) = plan.Block(part, m, layout.WideN);
            var ks = packed.Kernels;
            int mr = ks.MR, nr = plan.Nr, wideN = layout.WideN, wq = layout.Wq, ow = g.OW, outSize = g.OutputSize;
            bool wide48 = nr == GemmOffsetKernels48.NR;
            if (wide48) s_wide48Runs++;
            var kernel = g.KernelSize != 1 ? k <= ShortDepth ? ks.ShortDepthOffsetKernel : DeepKernel(ks)
                : (long)m * k * sizeof(float) <= LargeWeightBytes ? wide48 ? &GemmOffsetKernels48.Avx512x8x48<PrefetchStreams> : ks.PointwiseOffsetKernel
                : (long)k * wideN * sizeof(float) <= SmallImageBytes
                    ? wide48 ? &GemmOffsetKernels48.Avx512x8x48<PrefetchWeights> : ks.LargeWeightsSmallImageOffsetKernel
                    : wide48 ? &GemmOffsetKernels48.Avx512x8x48<PrefetchStreamsAndWeights> : ks.LargeWeightsOffsetKernel;
            // A last panel with at most NR/2 real columns needs only the left half of the tile computed.
            var lastKernel = !wide48 && ks.HalfOffsetKernel != null && wideN % nr != 0 && wideN % nr <= nr / 2 ? ks.HalfOffsetKernel : kernel;
            int* offsets = layout.Offsets;
            float* tile = stackalloc float[mr * nr];
            bool splitStore = ConvWideSplitTile.Supports(ks) && s_splitStore && !wide48;
            // A tile whose columns are consecutive outputs of one row is stored straight into Y with its whole
            // epilogue done by the micro-kernel (Sigmoid and Tanh excepted, applied after). Other tiles go to
            // scratch: whole ones get the bias (and the activation when no residual must come first) in the
            // micro-kernel, the rest is applied where the tile lands.
            GemmTileEpilogue direct = default;
            bool actInKernel = act.ToTile(ref direct);
            if (!actInKernel) direct.Mode = TileActivation.None;
            direct.Ldr = outSize;
            var scattered = direct;
            if (residual != null) scattered.Mode = TileActivation.None;
            bool afterwards = residual != null || act.Kind != ActivationKind.None && !actInKernel;
            bool anyEpilogue = bias != null || residual != null || act.Kind != ActivationKind.None;
            // A partial last panel would read past the image: its columns are packed (zero-filled) once instead.
            int jLast = (wideN - 1) / nr * nr;
            float* last = null;
            bool hasTail = wideN % nr != 0 && jLast >= j0 && jLast < j1;
            // With AVX-512 the last panel is computed by output-channel lanes from the image itself (its c real columns only).
            bool tailLanes = hasTail && s_columnTail && ConvWideColumnTail.Supports(ks);
            float* tailBlock = stackalloc float[tailLanes ? nr * ConvWideColumnTail.ColumnStride : 0];
            if (hasTail && !tailLanes)
            {
                // Row blocks over every column (GemmPartition's split for large A) all reach the last panel: packed by a thread's first.
                var scratch = GemmScratch.ForThread;
                last = scratch.B(k * nr);
                int cols = wideN - jLast;
                for (int p = 0; p < k && scratch.LastPanelJob != id; p++)
                {
                    float* src = x + offsets[p] + jLast, dst = last + p * nr;
                    int q = 0;
                    for (; q < cols; q++) dst[q] = src[q];
                    for (; q < nr; q++) dst[q] = 0;
                }
                scratch.LastPanelJob = id;
            }
            int blockPanels = wide48 ? (int)Math.Clamp(Wide48BlockBytes / ((long)k * nr * sizeof(float)), 1, PanelsPerBlock) : PanelsPerBlock;
            for (int jb = j0; jb < j1; jb += blockPanels * nr)
            {
                int jbEnd = Math.Min(j1, jb + blockPanels * nr);
                for (int i = i0; i < i1; i += mr)
                {
                    float* a = packed.FullDepthPanel(i);
                    int rows = Math.Min(mr, i1 - i);
                    bool whole = rows == mr;
                    direct.Bias = scattered.Bias = bias == null || !whole ? null : bias + i;
                    for (int j = jb; j < jbEnd; j += nr)
                    {
                        if (tailLanes && j == jLast)
                        {
                            Tail(packed, i, i0, i1, jLast, tailBlock, bias != null || scattered.Mode != TileActivation.None ? scattered : null,
                                afterwards, anyEpilogue);
                            continue;
                        }
                        float* b = j == jLast && last != null ? last : x + j;
                        int* offs = j == jLast && last != null ? layout.PackedOffsets : offsets;
                        int oy = j / wq, ox = j - oy * wq;
                        // Consecutive outputs: inside one row, or anywhere when rows have no dropped columns (Wq = OW).
                        if (whole && (wq == ow ? j + nr <= wideN : ox + nr <= ow))
                        {
                            long at = (long)i * outSize + (long)oy * ow + ox;
                            direct.Residual = residual == null ? null : residual + at;
                            kernel(a, b, offs, y + at, outSize, k, anyEpilogue ? &direct : null);
                            if (!actInKernel && act.Kind != ActivationKind.None)
                                for (int r = 0; r < mr; r++) act.ApplyRow(y + at + (long)r * outSize, nr, 0, null);
                            continue;
                        }
                        // A whole tile from the end of one row into the next, its epilogue done in the kernel: stored with vectors.
                        int next = wq - ox;
                        if (whole && splitStore && !afterwards && j + nr <= jbEnd && j + nr <= wideN && next < nr && nr - next <= ow)
                        {
                            kernel(a, b, offs, tile, nr, k, bias != null || scattered.Mode != TileActivation.None ? &scattered : null);
                            ConvWideSplitTile.Store(tile, mr, nr, Math.Max(0, ow - ox), y + (long)i * outSize + (long)(oy + 1) * ow, next, outSize);
                            continue;
                        }
                        (j == jLast && last != null ? lastKernel : kernel)(a, b, offs, tile, nr, k,
                            whole && (bias != null || scattered.Mode != TileActivation.None) ? &scattered : null);
                        Scatter(tile, nr, i, rows, j, Math.Min(nr, jbEnd - j), !whole && bias != null, whole ? afterwards : anyEpilogue);
                    }
                }
            }
        }

        /// <summary>
        /// The last panel's part of row tile <paramref name="i"/> with <see cref="ConvWideColumnTail"/>: a whole tile that begins a pair
        /// (counted from <paramref name="i0"/>) with a whole tile after it waits for that one, and the two are computed as 16 lanes; others
        /// as 8. Each tile is then scattered as the 8×32 kernel's would be, with the same epilogue split (<paramref name="ep"/>: the
        /// scattered tile epilogue with no bias in it yet, or null when there is none).
        /// </summary>
        private void Tail(GemmPackedA packed, int i, int i0, int i1, int jLast, float* block, GemmTileEpilogue? ep, bool afterwards, bool anyEpilogue)
        {
            int rows = Math.Min(8, i1 - i), cols = layout.WideN - jLast;
            bool whole = rows == 8, pairFirst = (i - i0) % 16 == 0;
            if (whole && pairFirst && i + 16 <= i1) return;
            bool pair = whole && !pairFirst;
            int first = pair ? i - 8 : i;
            GemmTileEpilogue e = ep ?? default;
            if (ep != null) e.Bias = bias == null ? null : bias + first;
            s_columnTailRuns++;
            ConvWideColumnTail.Compute(cols, packed.FullDepthPanel(first), pair ? packed.FullDepthPanel(i) : null, x + jLast, layout.Offsets, k,
                block, ep != null && whole ? &e : null);
            if (pair) Scatter(block, 1, ConvWideColumnTail.ColumnStride, first, 8, jLast, cols, false, afterwards);
            Scatter(pair ? block + 8 : block, 1, ConvWideColumnTail.ColumnStride, i, rows, jLast, cols, !whole && bias != null, whole ? afterwards : anyEpilogue);
        }

        /// <summary>The kernel for a deep (k &gt; <see cref="ShortDepth"/>) product: with B rows prefetched ahead when the planes outgrow L2.</summary>
        private delegate*<float*, float*, int*, float*, nint, int, GemmTileEpilogue*, void> DeepKernel(GemmKernelSet ks) =>
            s_prefetchTaps && groupStride * sizeof(float) > LargeImageBytes ? ks.LargeImageOffsetKernel : ks.OffsetKernel;

        /// <summary>Copies the tile's real outputs (wide columns ox &lt; OW) to Y and applies the epilogue there.</summary>
        private void Scatter(float* tile, int nr, int i, int rows, int j, int cols, bool addBias, bool epilogue) =>
            Scatter(tile, nr, 1, i, rows, j, cols, addBias, epilogue);

        /// <summary>As above for a tile whose element (r, col) is at <c>tile[r·rowStride + col·colStride]</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Scatter(float* tile, int rowStride, int colStride, int i, int rows, int j, int cols, bool addBias, bool epilogue)
        {
            int wp = layout.Wq, ow = g.OW, outSize = g.OutputSize;
            int oy0 = j / wp, ox0 = j - oy0 * wp;
            for (int r = 0; r < rows; r++)
            {
                float* src = tile + r * rowStride;
                long rowBase = (long)(i + r) * outSize;
                float b = addBias ? bias[i + r] : 0;
                for (int col = 0, oy = oy0, ox = ox0; col < cols; oy++, ox = 0)
                {
                    int len = Math.Min(wp - ox, cols - col), valid = Math.Min(len, ow - ox);
                    if (valid > 0)
                    {
                        long at = rowBase + (long)oy * ow + ox;
                        float* dst = y + at, s = src + col * colStride;
                        // The residual joins the tile before the tile is stored: Y may be the residual's own storage.
                        float* res = epilogue && residual != null ? residual + at : null;
                        int q = 0;
                        if (colStride != 1)
                            for (; q < valid; q++) dst[q] = res != null ? s[q * colStride] + res[q] : s[q * colStride];
                        else if (res != null)
                        {
                            for (; q + 8 <= valid; q += 8) Vector256.Store(Vector256.Load(s + q) + Vector256.Load(res + q), dst + q);
                            for (; q < valid; q++) dst[q] = s[q] + res[q];
                        }
                        else
                        {
                            for (; q + 8 <= valid; q += 8) Vector256.Store(Vector256.Load(s + q), dst + q);
                            for (; q < valid; q++) dst[q] = s[q];
                        }
                        if (epilogue) act.ApplyRow(dst, valid, b, null);
                    }
                    col += len;
                }
            }
        }
    }
}
