using Loom.Inference;
using Loom.IR;
using Loom.Kernels.Common;
using Loom.Scheduling;
using Attribute = Loom.IR.Attribute;

namespace Loom.Tests.Scheduling;

/// <summary>
/// Winograd layers are a kernel class of their own: timed by probes that take the Winograd paths, and priced at those
/// timings, so a strided or 7×7 convolution is not charged the Winograd split's scaling (or the other way round).
/// </summary>
public sealed class WinogradClassTests
{
    /// <summary>x[1,c,size,size] → one Conv with a k×k [outputs, c] weight at the given stride.</summary>
    private static Graph OneConv(int channels, int size, int kernel, int stride, int outputs)
    {
        var x = new TensorType(DataType.Float, Shape.Of(1, channels, size, size));
        long pad = kernel / 2;
        var conv = new Node("Conv", ["x", "w"], ["y"],
            [Attribute.Ints("pads", [pad, pad, pad, pad]), Attribute.Ints("strides", [stride, stride]), Attribute.Ints("kernel_shape", [kernel, kernel])]);
        var w = Tensor.FromArray(new float[outputs * channels * kernel * kernel], outputs, channels, kernel, kernel);
        var g = new Graph("g", [new ValueInfo("x", x)], [new ValueInfo("y", null)], [conv], new Dictionary<string, Tensor> { ["w"] = w });
        return ShapeInference.Run(new Model(g, new Dictionary<string, int> { [""] = 17 })).Graph;
    }

    [Theory]
    [InlineData(64, 56, 3, 1, 64, KernelClass.Winograd4)]  // F(4×4)
    [InlineData(256, 14, 3, 1, 256, KernelClass.Winograd)] // F(2×2)
    [InlineData(128, 28, 3, 1, 32, KernelClass.Winograd)]  // F(2×2): few outputs
    [InlineData(256, 7, 3, 1, 256, KernelClass.Conv)]      // 49 positions, 256 channels: the few-positions product
    [InlineData(128, 56, 3, 2, 128, KernelClass.Conv)]     // strided
    [InlineData(8, 56, 3, 1, 8, KernelClass.Conv)]         // too few channels
    [InlineData(16, 28, 7, 1, 16, KernelClass.Conv)]
    [InlineData(64, 56, 1, 1, 64, KernelClass.Gemm)]
    public void ThreeByThreeStrideOneLayersOnTheWinogradPathAreTheirOwnClass(int c, int size, int kernel, int stride, int k, KernelClass expected)
    {
        var g = OneConv(c, size, kernel, stride, k);
        var work = CostModel.Measure(g.Nodes[0], g, _ => null);
        Assert.Equal(expected, work.Class);
        if (expected is not (KernelClass.Winograd or KernelClass.Winograd4)) return;
        // Its work is the multiply-adds it computes, well below the direct FLOPs (F(2×2): 16 per 36, F(4×4): 36 per 144, plus padding).
        Assert.InRange(work.Work, 0.2 * work.Flops, 0.6 * work.Flops);
        Assert.True(work.PackedBytes > work.Bytes, "the transformed tiles and products count as moved bytes");
    }

    [Fact]
    public void EveryProbeCaseTakesTheKernelsOfItsClass()
    {
        // A probe that leaves its class's path (a threshold moved in ConvWinograd.Worth, say) would time the wrong kernel.
        foreach (var cls in Enum.GetValues<KernelClass>())
            foreach (var probe in ProbeModels.ClassCases(cls))
            {
                var g = ShapeInference.Run(probe.Model).Graph;
                Assert.All(g.Nodes, n => Assert.Equal(cls, CostModel.Measure(n, g, _ => null).Class));
            }
    }

    [Fact]
    public void AWinogradLayerIsPricedAtTheWinogradTimingsAndAStridedOneAtTheConvOnes()
    {
        var fixedProfile = MachineProfile.Fixed(2);
        var single = fixedProfile.Single.ToArray();
        var wide = fixedProfile.Wide.ToArray();
        // F(4×4): 1 ns per unit of work, hardly faster on two threads; Conv: 2 ns, exactly twice as fast.
        single[(int)KernelClass.Winograd4] = new KernelTiming(0, 1e-9);
        wide[(int)KernelClass.Winograd4] = new KernelTiming(0, 0.9e-9);
        single[(int)KernelClass.Conv] = new KernelTiming(0, 2e-9);
        wide[(int)KernelClass.Conv] = new KernelTiming(0, 1e-9);
        var cost = new CostModel(fixedProfile with { Single = single, Wide = wide });

        var winograd = OneConv(64, 56, 3, 1, 64);
        var w = CostModel.Measure(winograd.Nodes[0], winograd, _ => null);
        var wc = cost.Node(winograd.Nodes[0], winograd, _ => null);
        Assert.Equal(w.Work * 1e-9, wc.Seconds, 1e-12);
        Assert.Equal(w.Work * 0.9e-9, wc.WideSeconds, 1e-12);

        var strided = OneConv(128, 56, 3, 2, 128);
        var sc = cost.Node(strided.Nodes[0], strided, _ => null);
        Assert.Equal(FlopCounter.Count(strided.Nodes[0], strided, _ => null)!.Value * 2e-9, sc.Seconds, 1e-12);
        Assert.Equal(sc.Seconds / 2, sc.WideSeconds, 1e-12);
    }
}
