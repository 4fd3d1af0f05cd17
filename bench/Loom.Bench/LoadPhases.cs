using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Loom.Import.Onnx;
using Loom.Inference;
using Loom.Passes;
using Loom.Runtime;
using Loom.Runtime.Parallel;
using Loom.Scheduling;

namespace Loom.Bench;

/// <summary>
/// <c>load-phases MODEL [THREADS]</c>: the steps of <see cref="LoomSession.Load(string, LoomSessionOptions?)"/> one by one in
/// this (fresh) process, each with its wall and process CPU milliseconds, the methods the JIT compiled for it, the minor page
/// faults it took and the bytes it allocated — to see where a fresh process's first load goes. The steps are the constructor's,
/// with its default options; the last line is a whole <c>LoomSession.Load</c> after them (what is left: node cloning,
/// metadata). LOOM_PHASES_PARSE=1 times the protobuf parse alone before the import.
/// </summary>
internal static class LoadPhases
{
    public static int Run(string[] args)
    {
        string path = args[0];
        int threads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : Environment.ProcessorCount;
        var options = new LoomSessionOptions { IntraOpThreads = threads };
        Console.WriteLine($"{"phase",-36} {"wall ms",8} {"cpu ms",8} {"jit n",6} {"jit ms",7} {"faults",7} {"alloc KB",9}");
        Step("kernel registry (discovery)", () => Kernels.KernelRegistry.Default);
        if (Environment.GetEnvironmentVariable("LOOM_PHASES_PARSE") == "1")
            Step("protobuf parse alone", () => Import.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)));
        var model = Step("import (protobuf + IR)", () => OnnxImporter.Load(path, options));
        Step("opset check", () => { Kernels.OpsetSupport.Check(model); return 0; });
        Step("shape rules (discovery)", () => Inference.ShapeRules.Default);
        model = Step("shape inference", () => ShapeInference.Run(model));
        var passOptions = new PassOptions
        {
            MaxFoldedTensorBytes = Math.Min(options.MaxFoldedTensorBytes, options.MaxTensorBytes),
            TreeLowering = options.TreeLowering, TreeStrategy = options.TreeStrategy, LoomOperators = true,
        };
        foreach (var pass in PassPipeline.ForLevel(options.OptimizationLevel, passOptions).Passes)
            model = Step("pass " + pass.Name, () => pass.Run(model));
        model = Step("shape inference (after passes)", () => ShapeInference.Run(model));
        var main = Step("compile graph (kernels, packing)", () => new CompiledGraph(model.Graph, model.Opsets, Kernels.KernelRegistry.Default, options, null));
        if (Environment.GetEnvironmentVariable("LOOM_PHASES_JSON") is { } json)
            Step("json read of a cached profile", () => MachineProfileJson.Read(File.ReadAllBytes(json)));
        var profile = Step("machine profile", () => MachineProfile.ForThisMachine(threads));
        var scheduler = Step("scheduler setup", () => new SessionScheduler(main, options));
        Step("cost model", () => scheduler.Cost);
        Step("schedule", () => scheduler.PlanFor(_ => null));
        Step("LoomSession.Load (all, after the above)", () => { LoomSession.Load(path, options).Dispose(); return 0; });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"process total",-36} {(DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds,8:F0} {Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds,8:F0} {JitInfo.GetCompiledMethodCount(),6} {JitInfo.GetCompilationTime().TotalMilliseconds,7:F0} {MinorFaults(),7} gen0 GCs {GC.CollectionCount(0)}"));
        return 0;
    }

    /// <summary>
    /// The process's minor page faults so far (Linux: /proc/self/stat's tenth field; 0 elsewhere). On this VM a first-touched page
    /// costs ~24 µs, so a fresh load's faults are a large share of its time (docs/performance.md, "Load time").
    /// </summary>
    private static long MinorFaults()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7], CultureInfo.InvariantCulture); // field 10 overall: state is field 3
        }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }

    private static T Step<T>(string name, Func<T> step)
    {
        var self = Process.GetCurrentProcess();
        double cpu0 = self.TotalProcessorTime.TotalMilliseconds;
        long jit0 = JitInfo.GetCompiledMethodCount();
        double jitMs0 = JitInfo.GetCompilationTime().TotalMilliseconds;
        long faults0 = MinorFaults(), alloc0 = GC.GetTotalAllocatedBytes(true);
        var clock = Stopwatch.StartNew();
        var result = step();
        double wall = clock.Elapsed.TotalMilliseconds;
        self.Refresh();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-36} {wall,8:F1} {self.TotalProcessorTime.TotalMilliseconds - cpu0,8:F0} {JitInfo.GetCompiledMethodCount() - jit0,6} {JitInfo.GetCompilationTime().TotalMilliseconds - jitMs0,7:F1} {MinorFaults() - faults0,7} {(GC.GetTotalAllocatedBytes(true) - alloc0) / 1024,9}"));
        return result;
    }
}
