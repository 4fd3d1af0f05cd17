using Loom.Import.Onnx;
using Loom.Kernels;
using Loom.Kernels.Fast;
using Loom.Scheduling;
using static Loom.Tests.Kernels.VectorTestData;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Support;

/// <summary>Runs one node through the fast kernels (the default registry) and the reference ones, and compares.</summary>
internal static class ParityRunner
{
    public static Tensor Input(int[] shape, int seed, bool dbl)
    {
        var data = Floats((int)ShapeMath.Size(shape), seed);
        return dbl ? Tensor.FromArray(data.Select(v => (double)v * (1 + 1e-10)).ToArray(), shape) : Tensor.FromArray(data, shape);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, LoomSession> Sessions = new();

    /// <summary>
    /// A session running one node, kept per (registry, op, attributes, opset, input dtypes, outputs): its
    /// inputs have unknown shapes, so one session serves every shape a test tries. With
    /// <paramref name="constants"/>, inputs after the first are initializers instead (not cached).
    /// </summary>
    private static LoomSession SessionFor(KernelRegistry registry, string op, Attr[]? attrs, Tensor?[] inputs, int opset, int outputs, bool constants)
    {
        string key = $"{(ReferenceEquals(registry, KernelRegistry.Default) ? "fast" : "ref")} {op} {opset} {outputs} {string.Join(",", attrs?.Select(a => a.Name + "=" + a) ?? [])} {string.Join(",", inputs.Select(t => t?.DataType.Name() ?? "-"))}";
        LoomSession Create()
        {
            var outs = Enumerable.Range(0, outputs).Select(o => $"out{o}").ToList();
            var node = new IR.Node(op, inputs.Select((t, i) => t is null ? "" : $"in{i}").ToList(), outs, attrs, "op", "");
            var fed = inputs.Select((t, i) => (t, i)).Where(p => p.t is not null && (!constants || p.i == 0));
            var initializers = constants ? inputs.Select((t, i) => (t, i)).Where(p => p.i > 0 && p.t is not null).ToDictionary(p => $"in{p.i}", p => p.t!) : null;
            var graph = new IR.Graph("parity", fed.Select(p => new IR.ValueInfo($"in{p.i}", new IR.TensorType(p.t!.DataType, null))),
                outs.Select(o => new IR.ValueInfo(o, null)), [node], initializers);
            var model = new IR.Model(graph, new Dictionary<string, int> { [""] = opset }, irVersion: 10);
            var options = new LoomSessionOptions
            {
                // A fixed profile: the schedule of one node does not change its results, and probing this machine for
                // three threads took minutes in the scalar-ISA child runs of IsaMatrixTests.
                VerifyInferredShapes = true, IntraOpThreads = 3, MachineProfile = MachineProfile.Fixed(3),
            };
            return LoomSession.Create(OnnxImporter.Load(OnnxExporter.ToBytes(model), options), options, registry);
        }
        return constants ? Create() : Sessions.GetOrAdd(key, _ => Create());
    }

    private static Tensor[] RunWith(KernelRegistry registry, string op, Attr[]? attrs, Tensor?[] inputs, int opset, int outputs, bool constants)
    {
        var feeds = new Dictionary<string, LoomValue>();
        for (int i = 0; i < (constants ? 1 : inputs.Length); i++)
            if (inputs[i] is { } t) feeds[$"in{i}"] = t;
        var session = SessionFor(registry, op, attrs, inputs, opset, outputs, constants);
        try
        {
            using var result = session.Run(feeds);
            return result.Select(r => ((Tensor)r.Value).Clone()).ToArray();
        }
        finally
        {
            if (constants) session.Dispose();
        }
    }

    /// <summary>
    /// Runs the node with the default registry (fast kernels) and the reference one; every output element
    /// must be the same, within <paramref name="maxUlps"/> of the reference, or within <paramref name="absolute"/> of it.
    /// </summary>
    public static void AssertSame(string op, Attr[]? attrs, Tensor?[] inputs, double maxUlps, int opset = 21, int outputs = 1,
        double absolute = 0, bool constants = false)
    {
        var fast = RunWith(KernelRegistry.Default, op, attrs, inputs, opset, outputs, constants);
        var reference = RunWith(ReferenceKernels.Registry, op, attrs, inputs, opset, outputs, constants);
        string where = $"{op} on {string.Join(", ", inputs.Select(t => t is null ? "-" : t.DataType.Name() + ShapeMath.Format(t.Shape)))}";
        for (int o = 0; o < outputs; o++)
        {
            Tensor f = fast[o], r = reference[o];
            Assert.True(f.Shape.SequenceEqual(r.Shape), $"{where}: output {o} shape {ShapeMath.Format(f.Shape)} vs {ShapeMath.Format(r.Shape)}");
            Assert.Equal(r.DataType, f.DataType);
            int bad = f.DataType switch
            {
                DataType.Float => FirstMismatch(f.AsSpan<float>(), r.AsSpan<float>(), (a, e) => Same(a, e) || Ulps(a, e) <= maxUlps || Math.Abs(a - e) <= absolute),
                DataType.Double => FirstMismatch(f.AsSpan<double>(), r.AsSpan<double>(), (a, e) => Same(a, e) || Ulps(a, e) <= maxUlps || Math.Abs(a - e) <= absolute),
                _ => Enumerable.Range(0, f.Length).FirstOrDefault(i => !f.GetDouble(i).Equals(r.GetDouble(i)), -1), // integers, float16, bool: exactly
            };
            if (bad >= 0) Assert.Fail($"{where}: output {o} element {bad} is {f.GetDouble(bad):R}, reference {r.GetDouble(bad):R}");
        }
    }

    private static int FirstMismatch<T>(ReadOnlySpan<T> fast, ReadOnlySpan<T> reference, Func<T, T, bool> ok)
    {
        for (int i = 0; i < fast.Length; i++)
            if (!ok(fast[i], reference[i])) return i;
        return -1;
    }
}
