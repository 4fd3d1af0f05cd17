using Loom.Runtime.Threading;

namespace Loom.Tests.Runtime;

public sealed class WorkerPoolTests
{
    private struct FillJob(int[] target, int value) : IParallelJob
    {
        public void Execute(int part) => target[part] += value + part;
    }

    private struct ThrowJob : IParallelJob
    {
        public void Execute(int part)
        {
            if (part == 3) throw new InvalidOperationException("part 3 failed");
        }
    }

    private struct NestedJob(WorkerPool pool, int[][] rows) : IParallelJob
    {
        public void Execute(int part) => pool.Run(rows[part].Length, new FillJob(rows[part], 1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void EveryPartRunsExactlyOnce(int threads)
    {
        using var pool = new WorkerPool(threads);
        for (int round = 0; round < 2000; round++)
        {
            int parts = 1 + round % 37;
            var target = new int[parts];
            pool.Run(parts, new FillJob(target, round));
            for (int p = 0; p < parts; p++) Assert.Equal(round + p, target[p]);
        }
    }

    [Fact]
    public void NestedJobsRunOnTheSubmittingThread()
    {
        using var pool = new WorkerPool(2);
        var rows = Enumerable.Range(0, 8).Select(i => new int[5 + i]).ToArray();
        pool.Run(rows.Length, new NestedJob(pool, rows));
        foreach (var row in rows)
            for (int p = 0; p < row.Length; p++) Assert.Equal(1 + p, row[p]);
    }

    [Fact]
    public void AFailingPartIsRethrownAndThePoolStaysUsable()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<InvalidOperationException>(() => pool.Run(8, new ThrowJob()));
        Assert.Equal("part 3 failed", e.Message);
        var target = new int[10];
        pool.Run(10, new FillJob(target, 0));
        Assert.Equal(Enumerable.Range(0, 10), target);
    }

    [Fact]
    public void ManyThreadsSubmittingAtOnceAllComplete()
    {
        using var pool = new WorkerPool(2);
        Parallel.For(0, 200, i =>
        {
            var target = new int[16];
            pool.Run(16, new FillJob(target, i));
            for (int p = 0; p < 16; p++) Assert.Equal(i + p, target[p]);
        });
    }
}

/// <summary>Parts that wait for each other all run at once, or not at all.</summary>
public sealed class WorkerPoolConcurrentTests
{
    /// <summary>Part p waits until part (p+1) mod n has started: only finishes if every part has its own thread.</summary>
    private struct RingJob(int[] started) : IParallelJob
    {
        public void Execute(int part)
        {
            Volatile.Write(ref started[part], 1);
            var spin = new SpinWait();
            while (Volatile.Read(ref started[(part + 1) % started.Length]) == 0) spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    private struct HoldJob(WorkerPool pool, bool[] nestedRan) : IParallelJob
    {
        public void Execute(int part) => nestedRan[part] = pool.TryRunConcurrently(2, new RingJob(new int[2]));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void PartsThatWaitForEachOtherAllComplete(int threads)
    {
        using var pool = new WorkerPool(threads);
        for (int round = 0; round < 300; round++)
            Assert.True(pool.TryRunConcurrently(threads, new RingJob(new int[threads])));
    }

    [Fact]
    public void ABusyOrTooSmallPoolRefuses()
    {
        using var pool = new WorkerPool(2);
        Assert.False(pool.TryRunConcurrently(3, new RingJob(new int[3])));
        var nested = new bool[2];
        Assert.True(pool.TryRunConcurrently(2, new HoldJob(pool, nested)));
        Assert.Equal([false, false], nested);
    }
}
