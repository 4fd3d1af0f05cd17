using Loom.Tests.Support;

namespace Loom.Tests.Runtime;

/// <summary>
/// Steady-state runs allocate only per-run objects (the result, the input dictionary, the run state),
/// never per operator: kernels reuse pooled output buffers, cached geometry and per-thread scratch.
/// </summary>
public sealed class AllocationTests
{
    private const int Runs = 100;
    private const long BudgetPerRun = 2048;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TinyCnnRunsAllocateAFixedSmallAmount(int threads)
    {
        string path = Path.Combine(SharedData.RepoRoot, "examples", "tiny-cnn.onnx");
        using var session = LoomSession.Load(path, new LoomSessionOptions { IntraOpThreads = threads });
        var inputs = new Dictionary<string, LoomValue> { ["image"] = OrtOracle.RandomInput(1, 2, 1, 28, 28) };
        for (int i = 0; i < 5; i++) session.Run(inputs).Dispose();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Runs; i++) session.Run(inputs).Dispose();
        long perRun = (GC.GetAllocatedBytesForCurrentThread() - before) / Runs;

        Assert.True(perRun <= BudgetPerRun, $"{perRun} bytes allocated per run (budget {BudgetPerRun})");
    }
}
