using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>Pointers to one float32 convolution's tensors (bias and residual may be null) and its input's pre-activation.</summary>
internal readonly unsafe struct ConvBuffers(float* x, float* w, float* bias, float* residual, float* y, ChannelTransform input = default)
{
    public readonly float* X = x, W = w, Bias = bias, Residual = residual, Y = y;
    public readonly ChannelTransform Input = input;
}

/// <summary>
/// float32 convolution, Y = act(conv(X, W) + bias + residual), split across the worker pool. Four paths:
/// one GEMM per image and group, Y_g[M/g × out] = W_g[M/g × C/g·k] · im2col(X_g), with the im2col
/// operand packed straight from the image (1×1 convolutions read X as it is) and the epilogue fused into
/// the GEMM; <see cref="ConvDepthwise"/> for one channel per group; <see cref="ConvPointwiseNarrow"/> for 1×1 groups a
/// few channels deep; <see cref="ConvDirect"/> for other
/// groups too narrow for GEMM tiles.
/// </summary>
internal static unsafe class ConvFloat
{
    /// <summary>Groups with fewer output channels than this are not worth GEMM tiles.</summary>
    public const int MinGemmRows = 4;

    /// <summary>Below this many multiply-adds a part is not worth handing to another thread.</summary>
    private const long MinWorkPerPart = 1 << 16;

    /// <param name="packed">W per group, packed when the weights were constant (for the GEMM path).</param>
    public static void Run(ConvProblem p, Conv3D g, ConvBuffers t, GemmPackedA[]? packed, FusedActivation act, WorkerPool? pool)
    {
        int mg = p.OutChannelsPerGroup, threads = pool?.Threads ?? 1;
        if (IsDepthwise(p, g))
        {
            int planes = p.Batch * p.OutChannels;
            bool vector = GemmKernelSet.Current.IsAvx2OrBetter;
            var job = new DepthwiseJob(t, g, p.OutChannels, planes, Parts(planes, (long)planes * g.OutputSize * g.KernelSize, threads), act,
                vector, vector && ConvDepthwiseInterleaved512.Supports(g));
            WorkerPool.Split(pool, job.Parts, job);
            return;
        }
        // The other paths read X unpadded: they get a transformed copy first.
        t = ConvInputTransform.Materialize(t, p.Batch, p.Channels, g.InputSize, pool);
        if (ConvPointwiseNarrow.Supports(p, g, packed?[0].Kernels ?? GemmKernelSet.Current))
        {
            ConvPointwiseNarrow.Run(p, g, t, act, pool);
            return;
        }
        if (mg < MinGemmRows || p.GroupDepth == 0)
        {
            int planes = p.Batch * p.OutChannels;
            var job = new DirectJob(p, g, t, Parts(planes, (long)planes * g.OutputSize * p.GroupDepth, threads), act);
            WorkerPool.Split(pool, job.Parts, job);
            return;
        }
        var ks = packed?[0].Kernels ?? GemmKernelSet.Current;
        int gemms = p.Batch * p.Group;
        long work = (long)mg * g.OutputSize * p.GroupDepth;
        // Many small GEMMs (grouped convolutions, batches of small images): one per part; else each GEMM splits itself.
        if (gemms >= 2 * threads && work < 1 << 22)
        {
            WorkerPool.Split(pool, gemms, new GroupJob(p, g, t, packed, act, ks));
            return;
        }
        for (int i = 0; i < gemms; i++) Gemm(p, g, t, packed, act, ks, i / p.Group, i % p.Group, pool);
    }

    /// <summary>One input and one output channel per group, on the depthwise kernels (which read FusedConv's channel map themselves).</summary>
    public static bool IsDepthwise(ConvProblem p, Conv3D g) => p.ChannelsPerGroup == 1 && p.OutChannelsPerGroup == 1 && ConvDepthwise.Supports(g);

    private static int Parts(int items, long work, int threads) =>
        (int)Math.Max(1, Math.Min(Math.Min(items, threads * 4L), work / MinWorkPerPart));

    /// <summary>One image's group as a GEMM with the bias/residual/activation epilogue.</summary>
    private static void Gemm(ConvProblem p, Conv3D g, ConvBuffers t, GemmPackedA[]? packed, FusedActivation act, GemmKernelSet ks,
        int n, int gi, WorkerPool? pool)
    {
        int mg = p.OutChannelsPerGroup, cg = p.ChannelsPerGroup, outSize = g.OutputSize;
        long yOff = ((long)n * p.OutChannels + gi * mg) * outSize;
        float* x = t.X + ((long)n * p.Channels + gi * cg) * g.InputSize;
        float* bias = t.Bias == null ? null : t.Bias + gi * mg;
        float* residual = t.Residual == null ? null : t.Residual + yOff;
        if (packed is not null) WithB(p, g, packed[gi].AsOperand(), x, t.Y + yOff, bias, residual, act, ks, pool);
        else WithB(p, g, new GemmDenseA(t.W + (long)gi * mg * p.GroupDepth, p.GroupDepth, false, 1), x, t.Y + yOff, bias, residual, act, ks, pool);
    }

    private static void WithB<TA>(ConvProblem p, Conv3D g, TA a, float* x, float* y, float* bias, float* residual, FusedActivation act,
        GemmKernelSet ks, WorkerPool? pool) where TA : struct, IGemmA
    {
        if (g.IsPointwise) WithEpilogue(p, g, a, new GemmDenseB(x, g.OutputSize, false), y, bias, residual, act, ks, pool);
        else WithEpilogue(p, g, a, new ConvIm2ColB(x, g), y, bias, residual, act, ks, pool);
    }

    private static void WithEpilogue<TA, TB>(ConvProblem p, Conv3D g, TA a, TB b, float* y, float* bias, float* residual, FusedActivation act,
        GemmKernelSet ks, WorkerPool? pool) where TA : struct, IGemmA where TB : struct, IGemmB
    {
        int m = p.OutChannelsPerGroup, n = g.OutputSize, k = p.GroupDepth;
        if (GemmBiasActivation.IsIdentity(bias, residual, act)) GemmCore.Multiply(ks, m, n, k, a, b, y, n, false, default(GemmNoEpilogue), pool);
        else GemmCore.Multiply(ks, m, n, k, a, b, y, n, false, new GemmBiasActivation(bias, residual, n, act), pool);
    }

    private readonly struct GroupJob(ConvProblem p, Conv3D g, ConvBuffers t, GemmPackedA[]? packed, FusedActivation act, GemmKernelSet ks)
        : IParallelJob
    {
        public void Execute(int part) => Gemm(p, g, t, packed, act, ks, part / p.Group, part % p.Group, null);
    }

    /// <param name="interleaved">Decided on the calling thread (tests force a kernel set there only), so every part agrees on the blocks.</param>
    private readonly struct DepthwiseJob(ConvBuffers t, Conv3D g, int channels, int planes, int parts, FusedActivation act, bool vector, bool interleaved)
        : IParallelJob
    {
        public int Parts => parts;

        public void Execute(int part)
        {
            if (interleaved)
            {
                // Sixteen planes at a time: parts start on block boundaries.
                ConvDepthwiseInterleaved512.Run(t.X, t.W, t.Bias, t.Residual, t.Y, channels, ConvDepthwiseInterleaved512.PartStart(planes, part, parts),
                    ConvDepthwiseInterleaved512.PartStart(planes, part + 1, parts), g, act, t.Input);
                return;
            }
            ConvDepthwise.Run(t.X, t.W, t.Bias, t.Residual, t.Y, channels, (int)((long)planes * part / parts), (int)((long)planes * (part + 1) / parts), g, act,
                vector, t.Input);
        }
    }

    private readonly struct DirectJob(ConvProblem p, Conv3D g, ConvBuffers t, int parts, FusedActivation act) : IParallelJob
    {
        public int Parts => parts;

        /// <summary>Output channels [m0, m1) of every image (ConvDirect's unit), then their epilogue.</summary>
        public void Execute(int part)
        {
            int m = p.OutChannels, m0 = (int)((long)m * part / parts), m1 = (int)((long)m * (part + 1) / parts);
            int outSize = g.OutputSize;
            long xLen = (long)p.Batch * p.Channels * g.InputSize, wLen = (long)m * p.GroupDepth, yLen = (long)p.Batch * m * outSize;
            ConvDirect.Run(new ReadOnlySpan<float>(t.X, (int)xLen), new ReadOnlySpan<float>(t.W, (int)wLen),
                t.Bias == null ? default : new ReadOnlySpan<float>(t.Bias, m), new Span<float>(t.Y, (int)yLen),
                p.Batch, p.Channels, m, p.Group, g, m0, m1);
            if (act.Kind == ActivationKind.None && t.Residual == null) return;
            for (int n = 0; n < p.Batch; n++)
                for (int c = m0; c < m1; c++)
                {
                    long off = ((long)n * m + c) * outSize;
                    act.ApplyRow(t.Y + off, outSize, 0, t.Residual == null ? null : t.Residual + off);
                }
        }
    }
}
