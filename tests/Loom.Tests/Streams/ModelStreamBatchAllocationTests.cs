using Loom.Streams.Models;

namespace Loom.Tests.StreamTests;

/// <summary>
/// A batched stage's steady state allocates no tensor memory per item: the stacking buffers and the items' views come from
/// the pool. Counts the whole process's allocations (the stage threads too), so it runs alone (the "timing" collection):
/// CI once saw 1.8 MB from tests running alongside.
/// </summary>
[Collection("timing")]
public sealed class ModelStreamBatchAllocationTests
{
    [Fact]
    public void SteadyStateAllocatesNoTensorMemoryPerItem()
    {
        var model = ModelStreamBatchTests.WideGemm();
        using var stream = ModelStream.Create(model, ModelStreamBatchTests.Options(1, 8));
        var items = StreamInputs.Items(stream.Inputs, new Dictionary<string, long>(), 64);
        long least = long.MaxValue;
        for (int round = 0; round < 4; round++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            foreach (var r in stream.Stream(items)) r.Dispose();
            long bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
            if (round > 0) least = Math.Min(least, bytes);
        }
        // One item's output is 32 KiB: a copy per item would be 2 MiB. The count is the whole process's, so the test runs alone
        // (50 KB measured alone); the bound is half a copy per item.
        Assert.True(least < 64 * 16384, $"{least} bytes allocated for 64 items");
    }
}
