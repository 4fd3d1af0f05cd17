using Loom.IR;
using Attr = Loom.IR.Attribute;

namespace Loom.Tests.Kernels;

/// <summary>
/// The fast kernels allocate nothing per run once warm: a graph of five nodes allocates no more per run
/// than a graph of one (the difference is what the nodes allocate; the session's own bookkeeping per run
/// is the same for both). Every node reads the graph input and its output dies at once, so each node gets
/// the same pooled buffer every run (a chain ping-pongs between buffers, and the runtime then builds a
/// new tensor header, which is not the kernel's doing). Run with the worker pool on (tensors big enough to
/// be split) and off.
/// </summary>
public class FastKernelAllocationTests
{
    // Counted on the calling thread, which runs a part of every parallel job too (the workers run the same code on other ranges).
    public static TheoryData<string> Ops() =>
    [
        "Add", "Mul", "Relu", "HardSigmoid", "Sigmoid", "Clip", "Erf", "BatchNormalization", "ReduceMean", "ReduceMax",
        "Softmax", "LayerNormalization", "Where", "Cast", "Pow",
    ];

    [Theory, MemberData(nameof(Ops))]
    public void FastKernelsAllocateNothingPerRunOnceWarm(string op)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            long one = AllocatedPerRun(op, 1, threads), many = AllocatedPerRun(op, 5, threads);
            Assert.True(many - one <= 0, $"{op} with {threads} thread(s): 4 more nodes allocate {many - one} bytes more per run");
        }
    }

    private static long AllocatedPerRun(string op, int nodes, int threads)
    {
        int[] shape = [1, 8, 96, 97]; // 74.5K elements: above the parallel threshold
        var x = Tensor.FromArray(Enumerable.Range(0, 8 * 96 * 97).Select(i => (float)Math.Sin(i)).ToArray(), shape);
        var initializers = new Dictionary<string, Tensor>();
        var list = new List<Node>();
        for (int k = 0; k < nodes; k++)
        {
            var (inputs, attrs) = NodeFor(op, "x", k, initializers);
            list.Add(new Node(op, inputs, [$"y{k}"], attrs, $"n{k}", "")); // Loom runs nodes whose outputs go unused
        }
        var graph = new Graph("alloc", [new ValueInfo("x", x.Type)], [new ValueInfo(list[^1].Outputs[0], null)], list, initializers);
        using var session = LoomSession.Create(new Model(graph, new Dictionary<string, int> { [""] = 17 }, irVersion: 10), new LoomSessionOptions { IntraOpThreads = threads });
        var feeds = new Dictionary<string, LoomValue> { ["x"] = x };
        for (int i = 0; i < 12; i++) session.Run(feeds).Dispose(); // buffers pooled, plans cached, jobs registered with the pool
        // The least any one run allocated: the runtime's own bookkeeping allocates now and then (a concurrent
        // bag growing, say), which is not what this test is about.
        long least = long.MaxValue;
        for (int i = 0; i < 6; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            session.Run(feeds).Dispose();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }

    private static (List<string> Inputs, Attr[]? Attrs) NodeFor(string op, string x, int k, Dictionary<string, Tensor> initializers)
    {
        string Const(string name, Tensor t) { initializers[$"{name}{k}"] = t; return $"{name}{k}"; }
        Tensor Channels(float v) => Tensor.FromArray(Enumerable.Repeat(v, 8).ToArray(), 8);
        return op switch
        {
            "Add" => ([x, Const("b", Tensor.FromArray(new float[8], 1, 8, 1, 1))], null),
            "Mul" => ([x, x], null),
            "Clip" => ([x, Const("lo", Tensor.Scalar(0f)), Const("hi", Tensor.Scalar(6f))], null),
            "Pow" => ([x, Const("e", Tensor.Scalar(2f))], null),
            "BatchNormalization" => ([x, Const("s", Channels(1)), Const("b", Channels(0)), Const("m", Channels(0)), Const("v", Channels(1))], null),
            "ReduceMean" or "ReduceMax" => ([x], [Attr.Ints("axes", [-1])]),
            "LayerNormalization" => ([x, Const("s", Tensor.FromArray(new float[97], 97)), Const("b", Tensor.FromArray(new float[97], 97))], null),
            "Where" => ([Const("c", Tensor.FromArray(Enumerable.Range(0, 97).Select(i => i % 3 == 0).ToArray(), 97)), x, Const("z", Tensor.Scalar(0f))], null),
            "Cast" => ([x], [Attr.Int("to", (int)DataType.Float16)]),
            _ => ([x], null),
        };
    }
}
