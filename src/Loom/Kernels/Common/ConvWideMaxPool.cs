using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// A convolution (with its bias and activation) and the 3×3 stride-2 unpadded max pool that alone reads it, in one pass
/// (com.loom FusedConvMaxPool: SqueezeNet's stem, 64 × 111² → 55²). Unfused, the convolution wrote 3.15 MB that only the pool
/// read back. Here each thread computes its pooled rows in bands: the band's convolution rows go to a per-thread scratch that
/// stays in L2 (<see cref="ConvWideGemm.Rows"/>: the unfused kernel's tiles, so the same bits), then the pool reads them there
/// (<see cref="PoolMaxValid3x3"/>, the unfused pool's kernel and comparison order) and writes only the pooled rows. Windows of
/// neighbouring pooled rows share one convolution row: a band's last row is copied to the next band's first, not recomputed.
/// </summary>
internal static unsafe class ConvWideMaxPool
{
    /// <summary>Pooled rows per band: 2·4 + 1 convolution rows of 64 channels × 111 columns, 256 KiB of scratch.</summary>
    private static readonly int BandRows = int.TryParse(Environment.GetEnvironmentVariable("LOOM_STEM_BAND"), out int b) && b > 0 ? b : 4;

    /// <summary>
    /// Whether the band path runs: the convolution takes the implicit GEMM (<paramref name="wide"/> says so, one group, the
    /// AVX-512 kernels that <see cref="PoolMaxValid3x3"/> needs) and the pool's windows all lie inside its input.
    /// </summary>
    public static bool Supports(ConvProblem p, Conv3D pool, ConvWideGemm.Layout? wide, GemmPackedA[]? packed) =>
        wide is not null && packed is { Length: 1 } && p.Group == 1 && ReferenceEquals(packed[0].Kernels, GemmKernelSet.Avx512)
        && PoolMaxValid3x3.Supports(pool) && pool.ID == 1 && pool.IH == wide.Geometry.OH && pool.IW == wide.Geometry.OW;

    /// <summary>Y = maxpool(act(conv(X, W) + bias)) for every image (no residual).</summary>
    public static void Run(ConvProblem p, Conv3D g, Conv3D pg, ConvWideGemm.Layout layout, GemmPackedA[] packed, ConvBuffers t, FusedActivation act,
        WorkerPool? pool)
    {
        if (!layout.NeedsCopy) t = ConvInputTransform.Materialize(t, p.Batch, p.Channels, g.InputSize, pool);
        int c = p.Channels, m = p.OutChannels;
        long channelSize = (long)layout.Phases * layout.Hq * layout.Wq;
        float* planes = layout.NeedsCopy ? GemmScratch.ForThread.Extra(checked((int)(c * channelSize))) : null;
        // One run of pooled rows per thread: each run's first band computes the one row its neighbour's last band also computes.
        int parts = Math.Min(pool?.Threads ?? 1, pg.OH);
        for (int n = 0; n < p.Batch; n++)
        {
            float* x = t.X + (long)n * c * g.InputSize;
            if (layout.NeedsCopy)
            {
                ConvWideGemm.FillPlanes(layout, x, planes, c, t.Input, pool);
                x = planes;
            }
            var job = new BandJob(g, pg, layout, packed, x, t.Y + (long)n * m * pg.OutputSize, t.Bias, act, m, parts);
            if (pool is null || parts == 1) job.Execute(0);
            else pool.Run(parts, job);
        }
    }

    /// <summary>
    /// Floats from one channel's band to the next: whole cache lines, an odd number of them, so a tile's eight channel rows fall in
    /// different L1 sets (SqueezeNet's 9 rows × 111 columns are 3996 bytes, within a line of 4 KiB: every row in one set).
    /// </summary>
    private static int ChannelStride(int floats)
    {
        int lines = (floats + 15) / 16;
        return (lines | 1) * 16;
    }

    private readonly struct BandJob(Conv3D g, Conv3D pg, ConvWideGemm.Layout layout, GemmPackedA[] packed, float* x, float* y, float* bias,
        FusedActivation act, int m, int parts) : IParallelJob
    {
        /// <summary>Pooled rows [OH·part/parts, OH·(part+1)/parts) of every channel.</summary>
        public void Execute(int part)
        {
            int first = (int)((long)pg.OH * part / parts), end = (int)((long)pg.OH * (part + 1) / parts);
            int ow = g.OW, bandRows = BandRows, plane = ChannelStride((2 * bandRows + 1) * ow);
            float* band = GemmScratch.ForThread.Fused(m * plane + PoolMaxValid3x3.AboveFloats(pg.OW));
            float* above = band + (long)m * plane;
            int kept = -1; // the band row holding the previous band's last convolution row
            for (int p0 = first; p0 < end; p0 += bandRows)
            {
                int p1 = Math.Min(end, p0 + bandRows), r0 = 2 * p0, r1 = 2 * p1 + 1;
                int from = r0;
                if (kept >= 0)
                {
                    for (int i = 0; i < m; i++)
                        Buffer.MemoryCopy(band + (long)i * plane + (long)kept * ow, band + (long)i * plane, ow * sizeof(float), ow * sizeof(float));
                    from++;
                }
                ConvWideGemm.Rows(g, layout, packed, x, band + (long)(from - r0) * ow, plane, bias, act, from, r1);
                PoolMaxValid3x3.Planes(band, y + (long)p0 * pg.OW, 0, m, 0, p1 - p0, ow, pg.OW, plane, pg.OutputSize, above);
                kept = r1 - 1 - r0;
            }
        }
    }
}
