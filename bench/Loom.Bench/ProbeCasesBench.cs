using System.Diagnostics;
using System.Globalization;
using Loom.Scheduling;

namespace Loom.Bench;

/// <summary>
/// <c>probe-cases [--threads T] [--runs N]</c>: each case the machine profile probes (<see cref="ProbeModels"/>), timed on one
/// thread and on T threads in the same process, best and median of N runs each, A and B alternated: whether a class's
/// all-threads fit (what the scheduler reads) agrees with the kernels themselves.
/// </summary>
internal static class ProbeCasesBench
{
    public static int Run(string[] args)
    {
        var o = BenchOptions.Parse(args, defaultRuns: 200);
        int threads = Math.Max(2, o.Threads);
        using var pool = new Runtime.Threading.WorkerPool(threads);
        Console.WriteLine($"{"class",-12} {"case",5} {"nodes",5} {"1T best us",11} {"1T med",8} {$"{threads}T best",10} {$"{threads}T med",8} {"best x",7} {"med x",6}");
        foreach (var cls in Enum.GetValues<KernelClass>())
        {
            var cases = ProbeModels.ClassCases(cls);
            for (int i = 0; i < cases.Count; i++)
            {
                var model = cases[i].Model;
                using var one = Make(model, 1, null);
                using var all = Make(model, threads, pool);
                var feeds = new Dictionary<string, LoomValue> { [one.Inputs[0].Name] = ProbeModels.Input(one.Inputs[0]) };
                for (int w = 0; w < 50; w++) { one.Run(feeds).Dispose(); all.Run(feeds).Dispose(); }
                Thread.Sleep(200);
                for (int w = 0; w < 50; w++) { one.Run(feeds).Dispose(); all.Run(feeds).Dispose(); }
                var a = new double[o.Runs];
                var b = new double[o.Runs];
                for (int r = 0; r < o.Runs; r++)
                {
                    a[r] = Time(one, feeds);
                    b[r] = Time(all, feeds);
                }
                Array.Sort(a);
                Array.Sort(b);
                int n = model.Graph.Nodes.Length;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{cls,-12} {i,5} {n,5} {a[0] / n,11:F1} {a[a.Length / 2] / n,8:F1} {b[0] / n,10:F1} {b[b.Length / 2] / n,8:F1} {a[0] / b[0],7:F2} {a[a.Length / 2] / b[b.Length / 2],6:F2}"));
            }
        }
        return 0;
    }

    private static LoomSession Make(Loom.IR.Model model, int threads, Runtime.Threading.WorkerPool? pool) =>
        LoomSession.Create(model, MachineProbes.SessionOptions(threads, pool));

    private static double Time(LoomSession s, Dictionary<string, LoomValue> feeds)
    {
        long t0 = Stopwatch.GetTimestamp();
        s.Run(feeds).Dispose();
        return Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
    }
}
