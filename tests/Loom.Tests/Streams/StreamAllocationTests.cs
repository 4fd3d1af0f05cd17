using Loom.Streams.Execution;
using Loom.Streams.Syntax;

namespace Loom.Tests.StreamTests;

/// <summary>
/// The stream runtimes allocate nothing per steady state: a run's allocations (its set-up, the worker threads'
/// start, the buffers it sizes) do not grow with the number of steady states it runs, on one core and on two
/// (unit alternation and the fused pipeline), for int and float programs with peeking, splitters and joiners.
/// </summary>
/// <remarks>Counts the whole process's allocations (the cores' threads too), so it runs alone (the "timing" collection).</remarks>
[Collection("timing")]
public sealed class StreamAllocationTests
{
    // A stateful source, a peeking FIR (items kept between units), a weighted round-robin split-join, a sink with a field.
    private const string Program = """
        void->void pipeline P {
          add Src();
          add Fir(8);
          add splitjoin { split roundrobin(2, 1); add Scale(0.5); add Scale(2.0); join roundrobin(2, 1); };
          add Sum();
        }
        void->float stateful filter Src { int x; work push 1 { x = x * 1103515245 + 12345; push((float)(x >> 16) / 65536.0); } }
        float->float filter Fir(int n) { work pop 1 peek n push 1 { float s = 0; for (int i = 0; i < n; i++) s += peek(i) * (i + 1); push(s); pop(); } }
        float->float filter Scale(float k) { work pop 1 push 1 { push(pop() * k); } }
        float->void stateful filter Sum { float total; work pop 1 { total = total + pop(); println(total); } }
        """;

    /// <summary>Bytes the whole process allocated while a fresh program ran <paramref name="iterations"/> steady states with printing off.</summary>
    private static long Allocated(string source, int cores, ParallelMode mode, long iterations)
    {
        var p = StreamProgram.Compile([new SourceFile("p.str", source)], new Printer(null));
        p.Mode = mode;
        if (cores == 1) p.PrepareSequential();
        var (used, plan) = cores == 1 ? (p, null) : p.PrepareParallel(cores);
        if (cores > 1) used.SetUpParallel(cores, plan!);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        if (cores == 1) used.RunSequential(iterations);
        else used.RunParallel(cores, iterations, plan);
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    [Theory]
    [InlineData(1, ParallelMode.Auto, "float")]
    [InlineData(2, ParallelMode.Alternate, "float")]
    [InlineData(2, ParallelMode.Pipeline, "float")]
    [InlineData(1, ParallelMode.Auto, "int")]
    [InlineData(2, ParallelMode.Alternate, "int")]
    public void AllocationsDoNotGrowWithSteadyStates(int cores, ParallelMode mode, string items)
    {
        var source = items == "float" ? Program : UnitAlternationTests.Handed;
        Allocated(source, cores, mode, 50_000); // JIT, thread pool and type statics
        long shortRun = Allocated(source, cores, mode, 50_000);
        long longRun = Allocated(source, cores, mode, 1_000_000);
        // 950,000 more steady states: one 8-byte object each would be 7.6 MB (measured 0–23 KB more, other threads included).
        Assert.True(longRun - shortRun < 64 * 1024, $"{shortRun} bytes for 50,000 steady states, {longRun} for 1,000,000");
    }
}
