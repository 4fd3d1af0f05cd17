using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Loom;
using Loom.Import.Onnx;
using Loom.Kernels;
using Loom.Kernels.Common;
using Loom.Kernels.Fast;
using Tensor = Loom.Tensor;

/// <summary>
/// Micro-benchmarks of the fast elementwise, reduction and normalization kernels: the SIMD loops against
/// TensorPrimitives, and whole one-node runs through the fast kernels against the reference kernels.
/// Usage: Loom.Bench elementwise [BenchmarkDotNet arguments, e.g. --filter *Loop*] | --threshold
/// </summary>
internal static class ElementwiseBench
{
    public static int Run(string[] args)
    {
        if (args is ["--threshold", ..]) return Threshold();
        // In process: no per-run project build on a machine shared with other builds.
        var job = Job.ShortRun.WithWarmupCount(3).WithIterationCount(9).WithLaunchCount(1).WithToolchain(InProcessEmitToolchain.Instance);
        var config = DefaultConfig.Instance.AddJob(job).WithOptions(ConfigOptions.JoinSummary);
        BenchmarkSwitcher.FromTypes([typeof(LoopBench), typeof(KernelBench)]).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
        return 0;
    }

    /// <summary>
    /// Where splitting over the worker pool starts to pay: one-node runs at growing sizes with one and two
    /// threads, the minimum of many runs (robust on a busy machine). Loom.Bench elementwise --threshold
    /// </summary>
    private static int Threshold()
    {
        foreach (var op in new[] { "Add", "Relu", "Exp" })
            foreach (int n in new[] { 8192, 16384, 32768, 65536, 131072, 262144, 1 << 20 })
            {
                var x = Tensor.FromArray(Enumerable.Range(0, n).Select(i => (float)Math.Sin(i)).ToArray(), n);
                var times = new double[2];
                for (int t = 1; t <= 2; t++)
                {
                    var node = new Loom.IR.Node(op, op == "Add" ? ["x", "x"] : ["x"], ["y"], null, "op", "");
                    var graph = new Loom.IR.Graph("t", [new Loom.IR.ValueInfo("x", x.Type)], [new Loom.IR.ValueInfo("y", null)], [node]);
                    using var session = LoomSession.Create(new Loom.IR.Model(graph, new Dictionary<string, int> { [""] = 17 }, irVersion: 10), new LoomSessionOptions { IntraOpThreads = t });
                    var feeds = new Dictionary<string, LoomValue> { ["x"] = x };
                    Loom.Bench.BenchOptions.WarmUp(() => session.Run(feeds).Dispose());
                    double best = double.MaxValue;
                    for (int r = 0; r < 400; r++)
                    {
                        long start = System.Diagnostics.Stopwatch.GetTimestamp();
                        session.Run(feeds).Dispose();
                        best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                    }
                    times[t - 1] = best;
                }
                Console.WriteLine($"{op,-5} n={n,8}  1 thread {times[0],9:F1} us  2 threads {times[1],9:F1} us  speedup {times[0] / times[1]:F2}");
            }
        return 0;
    }
}

/// <summary>Loom's SIMD loops against TensorPrimitives on the same spans (one thread, no kernel around them).</summary>
[MemoryDiagnoser]
public class LoopBench
{
    private float[] _x = [], _y = [], _z = [];

    [Params(1024, 65536, 1 << 20)]
    public int N;

    [GlobalSetup]
    public void Setup()
    {
        var r = new Random(1);
        _x = Enumerable.Range(0, N).Select(_ => (float)(r.NextDouble() * 8 - 4)).ToArray();
        _y = Enumerable.Range(0, N).Select(_ => (float)(r.NextDouble() * 8 - 4)).ToArray();
        _z = new float[N];
    }

    [Benchmark] public void AddLoom() => ElementwiseVectorLoops.Zip(new VectorOps.Add<float>(), _x, _y, _z);
    [Benchmark] public void AddTensorPrimitives() => TensorPrimitives.Add(_x, _y, _z);
    [Benchmark] public void MulScalarLoom() => ElementwiseVectorLoops.ZipRow(new VectorOps.Mul<float>(), _x, 1, _y, 0, _z, N);
    [Benchmark] public void MulScalarTensorPrimitives() => TensorPrimitives.Multiply(_x, _y[0], _z);
    [Benchmark] public void ReluLoom() => ElementwiseVectorLoops.Map(new VectorOps.Relu<float>(), _x, _z);
    [Benchmark] public void ReluTensorPrimitives() => TensorPrimitives.Max(_x, 0f, _z);
    [Benchmark] public void HardSwishLoom() => ElementwiseVectorLoops.Map(new VectorOps.HardSwish<float>(), _x, _z);
    [Benchmark] public void ExpLoom() => ElementwiseVectorLoops.Map(new VectorMathOps.Exp(), _x, _z);
    [Benchmark] public void ExpTensorPrimitives() => TensorPrimitives.Exp(_x, _z);
    [Benchmark] public void SigmoidLoom() => ElementwiseVectorLoops.Map(new VectorMathOps.Sigmoid(), _x, _z);
    [Benchmark] public void SigmoidTensorPrimitives() => TensorPrimitives.Sigmoid(_x, _z);
    [Benchmark] public void TanhLoom() => ElementwiseVectorLoops.Map(new VectorMathOps.Tanh(), _x, _z);
    [Benchmark] public void TanhTensorPrimitives() => TensorPrimitives.Tanh(_x, _z);
    [Benchmark] public void ErfLoom() => ElementwiseVectorLoops.Map(new VectorMathOps.Erf(), _x, _z);
    [Benchmark] public double SumLoom() => ReduceVector.Sum(_x, new ReduceVector.Value());
    [Benchmark] public float SumTensorPrimitives() => TensorPrimitives.Sum(_x);
    [Benchmark] public float MaxLoom() => ReduceVector.Fold(_x, new VectorOps.Max<float>(), float.NegativeInfinity);
    [Benchmark] public float MaxTensorPrimitives() => TensorPrimitives.Max(_x);
}

/// <summary>
/// One node run through a session, with the fast kernels (the default registry) and with the reference
/// kernels, on shapes from real models; the session's pool has one thread or two.
/// </summary>
[MemoryDiagnoser]
public class KernelBench
{
    public static IEnumerable<string> Cases =>
    [
        "Add [1,16,12,48]+[1,16,1,1]", "Add [1,64,56,56]+[1,64,1,1]", "Mul [1,64,56,56]*[1,64,56,56]", "Relu [1,64,56,56]", "HardSigmoid [1,64,56,56]",
        "Sigmoid [1,64,56,56]", "Erf [128,3072]", "Clip [1,64,56,56]", "BatchNormalization [1,64,56,56]",
        "ReduceMean [512,768]", "Softmax [12,128,128]", "LayerNormalization [128,768]",
    ];

    [ParamsSource(nameof(Cases))] public string Case = "";
    [Params("fast", "reference")] public string Kernels = "";
    [Params(1, 2)] public int Threads;

    private LoomSession _session = null!;
    private Dictionary<string, LoomValue> _feeds = [];

    [GlobalSetup]
    public void Setup()
    {
        string op = Case[..Case.IndexOf(' ')];
        var shapes = Case[(Case.IndexOf(' ') + 1)..].Split('+', '*').Select(s => s.Trim('[', ']').Split(',').Select(int.Parse).ToArray()).ToArray();
        var r = new Random(1);
        Tensor Data(int[] shape, float lo, float hi) => Tensor.FromArray(Enumerable.Range(0, (int)ShapeMath.Size(shape)).Select(_ => (float)(lo + (hi - lo) * r.NextDouble())).ToArray(), shape);
        var x = Data(shapes[0], -4, 4);
        var inputs = new List<Tensor> { x };
        int c = shapes[0].Length > 1 ? shapes[0][1] : shapes[0][0];
        switch (op)
        {
            case "Add" or "Mul": inputs.Add(Data(shapes[1], -1, 1)); break;
            case "Clip": inputs.Add(Tensor.Scalar(0f)); inputs.Add(Tensor.Scalar(6f)); break;
            case "BatchNormalization": inputs.AddRange([Data([c], 0.5f, 2), Data([c], -1, 1), Data([c], -1, 1), Data([c], 0.1f, 2)]); break;
            case "LayerNormalization": inputs.AddRange([Data([shapes[0][^1]], 0.5f, 2), Data([shapes[0][^1]], -1, 1)]); break;
        }
        var attrs = op == "ReduceMean" ? new[] { Loom.IR.Attribute.Ints("axes", [-1]) } : null;
        // Parameters are initializers, as in a model; only X is fed.
        var node = new Loom.IR.Node(op, inputs.Select((_, i) => $"in{i}").ToList(), ["out"], attrs, "op", "");
        var graph = new Loom.IR.Graph("bench", [new Loom.IR.ValueInfo("in0", x.Type)], [new Loom.IR.ValueInfo("out", null)], [node],
            inputs.Skip(1).Select((t, i) => (t, i)).ToDictionary(p => $"in{p.i + 1}", p => p.t));
        var model = new Loom.IR.Model(graph, new Dictionary<string, int> { [""] = op == "ReduceMean" ? 13 : 17 }, irVersion: 10);
        var options = new LoomSessionOptions { IntraOpThreads = Threads };
        _session = LoomSession.Create(OnnxImporter.Load(OnnxExporter.ToBytes(model), options), options, Kernels == "fast" ? KernelRegistry.Default : ReferenceKernels.Registry);
        _feeds = new() { ["in0"] = x };
    }

    [Benchmark] public void Run() => _session.Run(_feeds).Dispose();

    [GlobalCleanup] public void Cleanup() => _session.Dispose();
}
