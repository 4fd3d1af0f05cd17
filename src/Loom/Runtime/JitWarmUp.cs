namespace Loom.Runtime;

/// <summary>
/// Runs an action until .NET's tiered JIT has optimized the code it calls, before anyone times it. Kernels start out
/// compiled without optimization (TensorPrimitives' loops and generic kernels have no precompiled code) and are
/// recompiled on a background thread only after 30 calls counted from a moment 100 ms after the last new method —
/// with dynamic PGO, twice. Timed before that, a run measures slow code (PP-OCRv4's output Sigmoid: 0.86 ms on its
/// first runs against 0.17 later), and at full thread count the background JIT takes a core from the run (a 2-thread
/// ResNet-50 measured 53 ms after one warm-up call, 47 ms after this).
/// </summary>
public static class JitWarmUp
{
    /// <summary>At least twice; then until 1.5 s and 30 calls have passed, or 4 s for runs too slow for 30 calls.</summary>
    public static void Run(Action run)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int k = 0; k < 2 || clock.Elapsed.TotalSeconds < 1.5 || k < 30 && clock.Elapsed.TotalSeconds < 4; k++) run();
    }
}
