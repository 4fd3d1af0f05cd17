using System.Diagnostics;
using System.Globalization;

namespace Loom.Bench;

/// <summary>
/// <c>load [MODEL ...] [--threads T] [--runs N]</c>: load + optimize + schedule (<see cref="LoomSession.Load"/>, the
/// session's default options) of each model, first in a fresh process of this program (JIT included: most of it), then
/// warm in this one. Build with -p:LoomReadyToRun=false to see what ahead-of-time code saves (README, "Load time"). Each fresh figure
/// is the median of N processes.
/// </summary>
internal static class LoadBench
{
    public static int Run(string[] args)
    {
        var o = BenchOptions.Parse(args, defaultRuns: 3);
        int runs = Math.Max(1, o.Runs);
        var models = o.Positional.Count > 0 ? o.Positional.Select(ModelSpec.For).ToList() : ModelSpec.Defaults();
        Console.WriteLine($"load + optimize + schedule, {o.Threads} threads, fresh process = median of {runs} ({(IsReadyToRun() ? "ReadyToRun" : "JIT")} build)");
        Console.WriteLine($"{"model",-34} {"fresh ms",9} {"cpu ms",7} {"jit n",6} {"warm ms",9}");
        foreach (var m in models)
        {
            var fresh = Enumerable.Range(0, runs).Select(_ => Fresh(m.Path, o.Threads)).ToList();
            double Median(Func<double[], double> f) => fresh.Select(f).Order().ElementAt(fresh.Count / 2);
            Once(m.Path, o.Threads); // JIT and caches
            double warm = Enumerable.Range(0, 5).Select(_ => Once(m.Path, o.Threads)).Min();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{m.Name,-34} {Median(f => f[0]),9:F0} {Median(f => f[1]),7:F0} {Median(f => f[2]),6:F0} {warm,9:F0}"));
        }
        return 0;
    }

    /// <summary>
    /// The child's side: one load; on stdout its wall milliseconds, the process's CPU milliseconds during it (all threads,
    /// the JIT's included: what counts on a shared machine) and the methods the JIT compiled for it.
    /// </summary>
    public static int RunOnce(string[] args)
    {
        double cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
        long jit = System.Runtime.JitInfo.GetCompiledMethodCount();
        double wall = Once(args[0], int.Parse(args[1], CultureInfo.InvariantCulture));
        cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds - cpu;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{wall:R} {cpu:R} {System.Runtime.JitInfo.GetCompiledMethodCount() - jit}"));
        return 0;
    }

    private static double Once(string path, int threads)
    {
        var clock = Stopwatch.StartNew();
        using var session = LoomSession.Load(path, new LoomSessionOptions { IntraOpThreads = threads });
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double[] Fresh(string path, int threads)
    {
        var self = typeof(LoadBench).Assembly.Location;
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { self, "load-once", path, threads.ToString(CultureInfo.InvariantCulture) }) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        return output.Trim().Split('\n')[^1].Split(' ').Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>Whether Loom.dll carries ahead-of-time code (a ReadyToRun image has a managed native header).</summary>
    private static bool IsReadyToRun()
    {
        using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(typeof(LoomSession).Assembly.Location));
        return pe.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory.Size > 0;
    }
}
