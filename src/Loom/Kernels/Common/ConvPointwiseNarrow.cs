using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// 1×1 convolutions whose groups read at most <see cref="MaxDepth"/> input channels (ShuffleNet's first grouped layer:
/// 4 groups of 6 → 28 channels over 56×56), where a GEMM per group spends its time packing and on 8-row tiles of a
/// 6-deep product, and the layer is bound by writing its output. Here each output row is streamed: for a block of
/// <see cref="Block"/> positions (the group's K input rows, in L1), every output channel of the group is
/// Σ_k W[o, k]·X[k, ·] in order k = 0, 1, … (16-wide FMAs, the weights in registers), stored once, then its epilogue
/// (bias, residual, activation) runs on the block while it is in L1. Parts are blocks of positions, so every output
/// element is computed the same way whatever the thread count. ShuffleNet's layer: 0.29 ms on the GEMM path, ONNX
/// Runtime 0.10.
/// </summary>
internal static unsafe class ConvPointwiseNarrow
{
    public const int MaxDepth = 8;
    private const int Block = 512;

    public static bool Supports(ConvProblem p, Conv3D g, GemmKernelSet ks) =>
        ks.Is512 && Avx512F.IsSupported && g.IsPointwise && p.GroupDepth is > 0 and <= MaxDepth && g.OutputSize >= 16;

    public static void Run(ConvProblem p, Conv3D g, ConvBuffers t, FusedActivation act, WorkerPool? pool)
    {
        int blocks = (g.OutputSize + Block - 1) / Block, items = p.Batch * p.Group * blocks;
        var job = new Job(p, g, t, act, blocks, items, (int)Math.Max(1, Math.Min(items, (pool?.Threads ?? 1) * 4L)));
        if (pool is null || job.Parts == 1)
            for (int i = 0; i < job.Parts; i++) job.Execute(i);
        else pool.Run(job.Parts, job);
    }

    private readonly struct Job(ConvProblem p, Conv3D g, ConvBuffers t, FusedActivation act, int blocks, int items, int parts) : IParallelJob
    {
        public int Parts => parts;

        public void Execute(int part)
        {
            int i0 = (int)((long)items * part / parts), i1 = (int)((long)items * (part + 1) / parts);
            for (int i = i0; i < i1; i++)
            {
                int b = i % blocks, ng = i / blocks, n = ng / p.Group, gi = ng % p.Group;
                int start = b * Block, count = Math.Min(Block, g.OutputSize - start);
                Group(p, g, t, act, n, gi, start, count);
            }
        }
    }

    /// <summary>Output channels of group <paramref name="gi"/> of image <paramref name="n"/>, positions [start, start + count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Group(ConvProblem p, Conv3D g, ConvBuffers t, FusedActivation act, int n, int gi, int start, int count)
    {
        int k = p.GroupDepth, mg = p.OutChannelsPerGroup, size = g.OutputSize;
        float* x = t.X + ((long)n * p.Channels + gi * k) * size + start;
        bool epilogue = t.Bias != null || t.Residual != null || act.Kind != ActivationKind.None;
        var tail = ConvDepthwiseWide512.Mask(count % 16 == 0 ? 16 : count % 16);
        int full = (count - 1) / 16 * 16; // positions before the last (possibly partial) vector
        var w = stackalloc Vector512<float>[MaxDepth];
        // Bias and Relu in registers before the single store (the common case); other epilogues on the block afterwards.
        bool inline = t.Residual == null && act.Kind is ActivationKind.None or ActivationKind.Relu;
        bool relu = act.Kind == ActivationKind.Relu;
        for (int o = 0; o < mg; o++)
        {
            int oc = gi * mg + o;
            float* wo = t.W + (long)oc * k, y = t.Y + ((long)n * p.OutChannels + oc) * size + start;
            for (int j = 0; j < k; j++) w[j] = Vector512.Create(wo[j]);
            var bias = Vector512.Create(t.Bias == null ? 0 : t.Bias[oc]);
            int q = 0;
            for (; q + 32 <= full; q += 32)
            {
                var a0 = Vector512.Load(x + q) * w[0];
                var a1 = Vector512.Load(x + q + 16) * w[0];
                for (int j = 1; j < k; j++)
                {
                    float* xj = x + (long)j * size + q;
                    a0 = Avx512F.FusedMultiplyAdd(Vector512.Load(xj), w[j], a0);
                    a1 = Avx512F.FusedMultiplyAdd(Vector512.Load(xj + 16), w[j], a1);
                }
                if (inline)
                {
                    a0 = Epilogue(a0, bias, relu);
                    a1 = Epilogue(a1, bias, relu);
                }
                a0.Store(y + q);
                a1.Store(y + q + 16);
            }
            for (; q < full; q += 16)
            {
                var a = Vector512.Load(x + q) * w[0];
                for (int j = 1; j < k; j++) a = Avx512F.FusedMultiplyAdd(Vector512.Load(x + (long)j * size + q), w[j], a);
                if (inline) a = Epilogue(a, bias, relu);
                a.Store(y + q);
            }
            // The last vector, masked: lanes past the block are neither read nor written.
            var last = Avx512F.MaskLoad(x + q, tail, Vector512<float>.Zero) * w[0];
            for (int j = 1; j < k; j++) last = Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(x + (long)j * size + q, tail, Vector512<float>.Zero), w[j], last);
            if (inline) last = Epilogue(last, bias, relu);
            Avx512F.MaskStore(y + q, tail, last);
            if (epilogue && !inline)
                act.ApplyRow(y, count, t.Bias == null ? 0 : t.Bias[oc], t.Residual == null ? null : t.Residual + (y - t.Y));
        }
    }

    /// <summary>As <see cref="FusedActivation.ApplyRow"/> computes it: the bias added, then max(·, 0) (same NaN rule).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Epilogue(Vector512<float> v, Vector512<float> bias, bool relu) =>
        relu ? Vector512.Max(v + bias, Vector512<float>.Zero) : v + bias;
}
