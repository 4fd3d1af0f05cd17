using Loom.Runtime.Threading;

namespace Loom.Kernels.Common;

/// <summary>Work on the elements [start, end) of an output; called once per contiguous chunk.</summary>
internal interface IRangeJob
{
    void Run(int start, int end);
}

/// <summary>
/// Splits an elementwise job over the session's <see cref="WorkerPool"/> in contiguous chunks: static
/// partitioning (each part a fixed range, a few parts per thread for balance), only when the tensor is
/// large enough to pay for waking the workers. Allocation-free: jobs are structs.
/// </summary>
internal static class ElementwiseParallel
{
    /// <summary>
    /// Elements below which a cheap op (add, relu: a few cycles per vector, memory bound) runs on the
    /// calling thread. Measured (Loom.Bench elementwise --threshold, 2 cores): a float32 Add or Relu on
    /// two threads is 1.05-1.16x at 64K elements, 1.7-2x from 128-256K, and no faster below 64K.
    /// </summary>
    public const int CheapOpThreshold = 1 << 16;

    /// <summary>The same for ops costing tens of cycles per vector (exp, erf, tanh): Exp is 1.7x on two threads at 32K, 1.0x at 16K.</summary>
    public const int CostlyOpThreshold = 1 << 15;

    /// <summary>Chunks start at multiples of this many elements, so parts do not share cache lines.</summary>
    private const int Alignment = 64;

    public static void For<TJob>(WorkerPool pool, int length, TJob job, int threshold = CheapOpThreshold) where TJob : struct, IRangeJob
    {
        int parts = PartsFor(pool.Threads, length, threshold);
        if (parts <= 1)
        {
            if (length > 0) job.Run(0, length);
            return;
        }
        pool.Run(parts, new Chunks<TJob>(job, length, parts));
    }

    /// <summary>One part per thread up to four per thread, each at least half a threshold long.</summary>
    private static int PartsFor(int threads, int length, int threshold)
    {
        if (threads <= 1 || length < threshold) return 1;
        return Math.Clamp(length / Math.Max(1, threshold / 2), threads, threads * 4);
    }

    private readonly struct Chunks<TJob>(TJob job, int length, int parts) : IParallelJob where TJob : struct, IRangeJob
    {
        public void Execute(int part)
        {
            int start = Boundary(part), end = Boundary(part + 1);
            if (start < end) job.Run(start, end);
        }

        private int Boundary(int part) => part >= parts ? length : (int)((long)length * part / parts / Alignment * Alignment);
    }
}
