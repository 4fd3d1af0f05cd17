using System.Runtime.CompilerServices;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// FusedConv's pre-activation x' = relu?(x·Scale[c] + Shift[c]) per input channel (default: none), and its channel map:
/// input channel c of the convolution is channel Map[c] of X (a channel shuffle folded in, <c>input_channels</c>). The
/// depthwise kernels read the mapped plane directly; paths that copy the image into bordered planes anyway apply the
/// affine map in that copy (<see cref="ConvPaddedPlane"/>); the others get a transformed copy from
/// <see cref="ConvInputTransform"/> first.
/// </summary>
internal readonly unsafe struct ChannelTransform(float* scale, float* shift, bool relu, int* map = null)
{
    /// <summary>No affine map (there may still be a channel map: <see cref="HasMap"/>).</summary>
    public bool IsIdentity => scale == null;
    public bool HasMap => map != null;
    public bool Relu => relu;
    public float Scale(int c) => scale[c];
    public float Shift(int c) => shift[c];

    /// <summary>The plane of X that plane <paramref name="p"/> of the convolution's input reads (image p / channels, channel p mod channels).</summary>
    public long Source(int p, int channels) => map == null ? p : SourceOf(p, p % channels);

    /// <summary><see cref="Source(int, int)"/> when plane <paramref name="p"/>'s channel <paramref name="c"/> is known.</summary>
    public long SourceOf(int p, int c) => map == null ? p : (long)(p - c) + map[c];
}

/// <summary>
/// FusedConv's pre-activation: X'[n, c, …] = relu?(X[n, c, …]·S[c] + T[c]) in one pass into per-thread
/// scratch, replacing the BatchNormalization/Mul/Add/Relu nodes (four passes and four tensors) the graph
/// had before the convolution. The convolution then reads X' as its input, so zero padding comes after
/// the transform, as in the original graph.
/// </summary>
internal static unsafe class ConvInputTransform
{
    /// <summary>The buffers with X replaced by its transformed (and channel-mapped) copy (unchanged when there is neither).</summary>
    public static ConvBuffers Materialize(ConvBuffers t, int batch, int channels, int size, WorkerPool? pool) =>
        t.Input.IsIdentity && !t.Input.HasMap ? t : new ConvBuffers(Apply(t.X, batch, channels, size, t.Input, pool), t.W, t.Bias, t.Residual, t.Y);

    private static float* Apply(float* x, int batch, int channels, int size, ChannelTransform transform, WorkerPool? pool)
    {
        int planes = batch * channels;
        float* dst = GemmScratch.ForThread.Input(planes * size);
        int parts = pool is null || (long)planes * size < 1 << 15 ? 1 : Math.Min(planes, pool.Threads * 2);
        var job = new Job(x, dst, channels, planes, size, transform, parts);
        if (parts == 1) job.Execute(0);
        else pool!.Run(parts, job);
        return dst;
    }

    private readonly struct Job(float* x, float* dst, int channels, int planes, int size, ChannelTransform transform, int parts)
        : IParallelJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int part)
        {
            int p0 = (int)((long)planes * part / parts), p1 = (int)((long)planes * (part + 1) / parts);
            for (int p = p0; p < p1; p++)
            {
                int c = p % channels;
                float* src = x + transform.Source(p, channels) * size;
                if (transform.IsIdentity) Buffer.MemoryCopy(src, dst + (long)p * size, (long)size * sizeof(float), (long)size * sizeof(float));
                else ConvPaddedPlane.Copy(src, dst + (long)p * size, size, transform.Scale(c), transform.Shift(c), transform.Relu);
            }
        }
    }
}
