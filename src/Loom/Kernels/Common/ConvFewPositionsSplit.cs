using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// <see cref="ConvFewPositions"/> on several threads, in two parallel steps where there were four (fill the planes, pack
/// A, multiply, transpose), each ending in a barrier and each handing its output to the other core:
/// 1. <b>Planes and A</b>: a part fills the bordered planes of a range of channels and packs exactly the taps of those
///    channels into the shared A (taps run channel by channel, so it reads only planes it wrote itself).
/// 2. <b>Product and Y</b>: a part multiplies a range of output channels (whole NR-column blocks of the product) and at
///    once transposes them into Y with the epilogue, while they are still in its cache.
/// Every value is computed by the same kernels from the same operands as on one thread, so results are bit for bit those
/// of the sequential run; only which thread computes what changes.
/// </summary>
internal static unsafe class ConvFewPositionsSplit
{
    /// <summary>Parts per thread of each step: two lets the pool's dynamic claiming even out a late or slower thread.</summary>
    public const int PartsPerThread = 2;

    /// <summary>Taps [K0, K1) of part <paramref name="part"/>: channels shared out evenly, each channel's taps whole.</summary>
    public static (int C0, int C1) Channels(int channels, int part, int parts) =>
        ((int)((long)channels * part / parts), (int)((long)channels * (part + 1) / parts));

    /// <summary>Product columns (output channels) [J0, J1) of part <paramref name="part"/>: whole NR-column blocks shared out evenly.</summary>
    public static (int J0, int J1) Columns(int m, int nr, int part, int parts)
    {
        int tiles = (m + nr - 1) / nr;
        return ((int)((long)tiles * part / parts) * nr, Math.Min(m, (int)((long)tiles * (part + 1) / parts) * nr));
    }

    /// <summary>Column parts of the product for <paramref name="threads"/> threads (1: too small to split).</summary>
    public static int ColumnParts(GemmKernelSet ks, int n, int m, int k, int threads)
    {
        var plan = GemmPartition.Plan(ks, n, m, k, threads, aPacked: true, bPacked: true);
        return plan.Parts == 1 ? 1 : Math.Min((m + ks.NR - 1) / ks.NR, threads * PartsPerThread);
    }

    /// <summary>Packs taps [k0, k1) of every MR-row panel into <paramref name="packed"/> (<see cref="GemmPackedA.Ref"/>'s layout).</summary>
    public static void PackTaps<TA>(TA a, float* packed, int n, int paddedN, int k, int mr, int k0, int k1) where TA : struct, IGemmA
    {
        if (k0 >= k1) return;
        // Blocks of KC taps: a range may start and end inside one; its taps sit at their place in the block's panels.
        for (int block = k0 / GemmCore.KC * GemmCore.KC; block < k1; block += GemmCore.KC)
        {
            int kc = Math.Min(GemmCore.KC, k - block), from = Math.Max(k0, block), to = Math.Min(k1, block + kc);
            for (int i0 = 0; i0 < paddedN; i0 += mr)
                a.Pack(packed + (long)block * paddedN + (long)i0 * kc + (long)(from - block) * mr, i0, Math.Min(mr, n - i0), from, to - from, mr);
        }
    }

    /// <summary>Step 1 from a wide layout: channels' planes filled, then their taps packed.</summary>
    public readonly struct PlanesAndA(ConvWideGemm.Layout wide, float* x, float* planes, ChannelTransform input, int channels, int n, int paddedN,
        int k, int mr, float* packed, int parts) : IParallelJob
    {
        public int Parts => parts;

        public void Execute(int part)
        {
            var (c0, c1) = Channels(channels, part, parts);
            long channelSize = (long)wide.Phases * wide.Hq * wide.Wq;
            for (int c = c0; c < c1; c++)
                wide.Fill(x + (long)c * wide.Geometry.InputSize, planes + c * channelSize, input, c);
            int taps = k / channels;
            PackTaps(new ConvFewPositions.PlaneRows(planes, wide.Offsets, wide.Geometry.OW, wide.Wq), packed, n, paddedN, k, mr, c0 * taps, c1 * taps);
        }
    }

    /// <summary>Step 1 for an operand read as it is (pointwise: X transposed): taps packed in even ranges.</summary>
    public readonly struct PackA<TA>(TA a, float* packed, int n, int paddedN, int k, int mr, int parts) : IParallelJob where TA : struct, IGemmA
    {
        public int Parts => parts;

        public void Execute(int part)
        {
            var (k0, k1) = Channels(k, part, parts);
            PackTaps(a, packed, n, paddedN, k, mr, k0, k1);
        }
    }

    /// <summary>Step 2: product columns [j0, j1) = A · Wᵀ, then those output channels transposed into Y with the epilogue.</summary>
    public readonly struct ProductAndY(GemmKernelSet ks, float* packed, int paddedN, GemmPackedB weights, float* product, int n, int m, int k,
        ConvFewPositions.TransposeJob transpose, int parts) : IParallelJob
    {
        public void Execute(int part)
        {
            var (j0, j1) = Columns(m, ks.NR, part, parts);
            GemmCore.MultiplyBlock(ks, 0, n, j0, j1, k, new GemmPackedA.Ref(packed, paddedN), weights.AsOperand(), product, m, false,
                default(GemmNoEpilogue));
            transpose.Channels(j0, j1);
        }
    }
}
