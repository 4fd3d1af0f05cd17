using Loom.Kernels.Common;
using Attr = Loom.IR.Attribute;
using static Loom.Tests.Kernels.ConvFastPathTests;

namespace Loom.Tests.Kernels;

/// <summary>
/// Pointwise layers at 12×12–16×16 whose image fits <see cref="ConvFewPositions.ShallowPointwiseBytes"/> take the wide path
/// instead of the few-positions one (ResNet-50's 1024×256 at 14×14). Each kernel set, one and two threads, against the
/// definition, with the last panel of positions 4, 9 and 16 columns wide and bias, residual and Relu fused.
/// </summary>
public sealed class ConvShallowPointwiseTests
{
    [Theory]
    [InlineData(96, 80, 14)]   // 196 positions: a 4-column last panel (NR 32), 8 with NR 16
    [InlineData(130, 72, 13)]  // 169: 9 columns over, an odd depth
    [InlineData(64, 136, 12)]  // 144: 16 columns over, channels not a multiple of MR
    public void MatchesTheDefinitionOnEveryKernelSet(int channels, int outChannels, int side)
    {
        int[] xs = [1, channels, side, side], ws = [outChannels, channels, 1, 1];
        var x = Random(Size(xs), channels + side);
        var w = Random(Size(ws), outChannels);
        var b = Random(outChannels, side);
        var shape = ConvTests.NaiveConv(x, xs, w, ws, b, 1, [1, 1], [0, 0, 0, 0], [1, 1], out var yShape);
        var z = Random(shape.Length, channels);
        var expected = shape.Select((v, i) => Math.Max(v + z[i], 0)).ToArray();
        var attrs = ConvAttrs(1, [1, 1], [0, 0, 0, 0], [1, 1]).Append(Attr.String("activation", "Relu"));
        foreach (var ks in GemmKernelSet.Supported)
        {
            using var forced = Force(ks.Name);
            float[] Run(int threads) => RunOne("FusedConv", "com.loom", attrs, threads, F(x, xs), F(w, ws), F(b, outChannels), F(z, yShape)).ToArray<float>();
            var one = Run(1);
            AssertNear(expected, one, $"{ks.Name} {outChannels}x{channels} at {side}x{side}, one thread");
            Assert.True(one.AsSpan().SequenceEqual(Run(2)), $"{ks.Name} {outChannels}x{channels} at {side}x{side}: two threads differ from one");
        }
    }
}
