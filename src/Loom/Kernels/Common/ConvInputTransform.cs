using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>
/// FusedConv's pre-activation: X'[n, c, …] = relu?(X[n, c, …]·S[c] + T[c]) in one pass into per-thread
/// scratch, replacing the BatchNormalization/Mul/Add/Relu nodes (four passes and four tensors) the graph
/// had before the convolution. The convolution then reads X' as its input, so zero padding comes after
/// the transform, as in the original graph.
/// </summary>
internal static unsafe class ConvInputTransform
{
    public static float* Apply(float* x, int batch, int channels, int size, float* scale, float* shift, bool relu, WorkerPool? pool)
    {
        int planes = batch * channels;
        float* dst = GemmScratch.ForThread.Input(planes * size);
        int parts = pool is null || (long)planes * size < 1 << 15 ? 1 : Math.Min(planes, pool.Threads * 2);
        var job = new Job(x, dst, channels, planes, size, scale, shift, relu, parts);
        if (parts == 1) job.Execute(0);
        else pool!.Run(parts, job);
        return dst;
    }

    private readonly struct Job(float* x, float* dst, int channels, int planes, int size, float* scale, float* shift, bool relu, int parts)
        : IParallelJob
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int part)
        {
            int p0 = (int)((long)planes * part / parts), p1 = (int)((long)planes * (part + 1) / parts);
            for (int p = p0; p < p1; p++)
            {
                int c = p % channels;
                float* s = x + (long)p * size, d = dst + (long)p * size;
                var vs = Vector256.Create(scale[c]);
                var vt = Vector256.Create(shift[c]);
                int i = 0;
                if (relu)
                    for (; i + 8 <= size; i += 8) Vector256.Store(Vector256.Max(Vector256.Load(s + i) * vs + vt, Vector256<float>.Zero), d + i);
                else
                    for (; i + 8 <= size; i += 8) Vector256.Store(Vector256.Load(s + i) * vs + vt, d + i);
                for (; i < size; i++)
                {
                    float v = s[i] * scale[c] + shift[c];
                    d[i] = relu ? Math.Max(v, 0) : v;
                }
            }
        }
    }
}
