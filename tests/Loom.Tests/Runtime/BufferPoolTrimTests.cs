using Loom.Runtime.Memory;

namespace Loom.Tests.Runtime;

/// <summary>
/// The pool drops free arrays of a size no run wants any more, but keeps spares of a size runs still take: outputs a stream's
/// items hold come back a few runs later, and dropping the spare made the next burst allocate it again.
/// </summary>
public sealed class BufferPoolTrimTests
{
    private const int Runs = 8; // more than the pool's few runs before it trims

    [Fact]
    public void ASpareOfASizeEveryRunTakesIsKept()
    {
        var pool = new BufferPool();
        var a = pool.Rent(typeof(float), 9000, sizeof(float));
        var b = pool.Rent(typeof(float), 9000, sizeof(float));
        pool.EndRun();
        for (int run = 0; run < Runs; run++)
        {
            var taken = pool.Rent(typeof(float), 9000, sizeof(float));
            Assert.True(ReferenceEquals(taken, a) || ReferenceEquals(taken, b), $"run {run} allocated a new array");
            pool.EndRun();
        }
        Assert.True(pool.Owns(a) && pool.Owns(b), "the spare was dropped while its size was still taken every run");
        // Both at once again (a burst of outputs held): no new array.
        var x = pool.Rent(typeof(float), 9000, sizeof(float));
        var y = pool.Rent(typeof(float), 9000, sizeof(float));
        Assert.Equal(new HashSet<Array>([a, b], ReferenceEqualityComparer.Instance), new HashSet<Array>([x, y], ReferenceEqualityComparer.Instance));
    }

    [Fact]
    public void ArraysOfASizeNoRunTakesAreDropped()
    {
        var pool = new BufferPool();
        var a = pool.Rent(typeof(float), 9000, sizeof(float));
        var b = pool.Rent(typeof(float), 9000, sizeof(float));
        pool.EndRun();
        long small = 0;
        for (int run = 0; run < Runs; run++)
        {
            var s = pool.Rent(typeof(float), 100, sizeof(float)); // a much larger array is not spent on it
            small = s.Length * sizeof(float);
            pool.EndRun();
        }
        Assert.False(pool.Owns(a));
        Assert.False(pool.Owns(b));
        Assert.Equal(small, pool.Bytes);
    }
}
